"""docs/config.md, generated from the JSON schemas in lemma/schemas/ (never edited by hand).

    python -m lemma.config_doc > docs/config.md

The schema is the one source of truth: it validates every config at load time and fills in the
defaults, so the reference is rendered from it rather than written next to it. tests/test_schema_doc.py
fails when the committed docs/config.md differs from what this module renders.

One section per top-level key; every leaf key is a table row named by its dotted path. A mapping
whose keys the user chooses (datasets, benchmarks, variants) is shown as `<name>`; `$ref`s are
resolved in place, so a user never has to follow a pointer.
"""

from __future__ import annotations

import json
import sys

from lemma.config import load_schema

GENERATED_BY = "python -m lemma.config_doc > docs/config.md"
SCHEMAS = ("config", "taxonomy")


def _resolve(node: dict, root: dict) -> dict:
    """A node with its `$ref` (to this schema's `#/$defs/...`) merged in; local keys win."""
    if "$ref" not in node:
        return node
    ref = node["$ref"]
    if not ref.startswith("#/"):
        raise ValueError(f"schema_doc: only local $refs are supported, got {ref!r}")
    target = root
    for part in ref[2:].split("/"):
        target = target[part]
    merged = {**_resolve(target, root), **{k: v for k, v in node.items() if k != "$ref"}}
    return merged


def _literal(value) -> str:
    """A value as a user would write it in YAML, in backticks."""
    if value is None:
        return "`null`"
    if isinstance(value, str):
        return f"`{value}`" if value else '`""`'
    return f"`{json.dumps(value)}`"


def _type(node: dict, root: dict) -> str:
    node = _resolve(node, root)
    if "enum" in node:
        return "one of " + ", ".join(_literal(v) for v in node["enum"])
    t = node.get("type")
    if t is None:
        return "object" if "properties" in node or "additionalProperties" in node else "any"
    types = t if isinstance(t, list) else [t]
    parts = []
    for one in types:
        if one == "array" and isinstance(node.get("items"), dict):
            parts.append(f"list of {_type(node['items'], root)}")
        else:
            parts.append(one)
    return " or ".join(parts)


_CONSTRAINTS = [
    ("minimum", ">= {}"),
    ("exclusiveMinimum", "> {}"),
    ("maximum", "<= {}"),
    ("exclusiveMaximum", "< {}"),
    ("minLength", "at least {} characters"),
    ("minItems", "at least {} items"),
    ("minProperties", "at least {} entries"),
    ("pattern", "matches `{}`"),
]


def _constraints(node: dict) -> list[str]:
    out = [
        "not empty" if key in ("minItems", "minProperties", "minLength") and node[key] == 1 else fmt.format(node[key])
        for key, fmt in _CONSTRAINTS
        if key in node
    ]
    if node.get("uniqueItems"):
        out.append("no duplicates")
    if node.get("additionalProperties") is False and "properties" in node:
        out.append("no other keys")
    return out


def _cell(text: str) -> str:
    """Markdown table cells: pipes escaped, no line breaks."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _rows(node: dict, root: dict, path: str, required: bool, out: list[dict]) -> None:
    """Depth-first: a row for this key, then rows for its sub-keys."""
    node = _resolve(node, root)
    notes = _constraints(node)
    if "propertyNames" in node and "pattern" in node["propertyNames"]:
        notes.append(f"names match `{node['propertyNames']['pattern']}`")
    out.append(
        {
            "key": path,
            "type": _type(node, root),
            "default": _literal(node["default"]) if "default" in node else "",
            "required": "yes" if required else "",
            "description": "; ".join([node.get("description", "")] * bool(node.get("description")) + notes),
        }
    )
    req = set(node.get("required", []))
    for name, sub in node.get("properties", {}).items():
        _rows(sub, root, f"{path}.{name}", name in req, out)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):  # a mapping whose keys the user names
        _rows(extra, root, f"{path}.<name>", False, out)
    items = node.get("items")
    if isinstance(items, dict) and _resolve(items, root).get("properties"):
        _rows(items, root, f"{path}[]", False, out)


def _rules(node: dict, root: dict, path: str) -> list[str]:
    """The rules between keys (the `description`s of a node's `allOf` conditionals), depth-first,
    each prefixed by the key it is about when that is not the section itself."""
    node = _resolve(node, root)
    out = [f"`{path}`: {rule['description']}" for rule in node.get("allOf", []) if rule.get("description")]
    for name, sub in node.get("properties", {}).items():
        out += _rules(sub, root, f"{path}.{name}")
    if isinstance(node.get("additionalProperties"), dict):
        out += _rules(node["additionalProperties"], root, f"{path}.<name>")
    return out


def render_schema(schema: dict, source: str, level: int = 2) -> str:
    h = "#" * level
    lines = [f"{h} {schema.get('title', source)}", ""]
    if schema.get("description"):
        lines += [" ".join(schema["description"].split()), ""]
    lines += [f"Schema: `{source}`.", ""]
    req = set(schema.get("required", []))
    sections: list[tuple[str, list[dict]]] = []
    scalars: list[dict] = []  # top-level keys without sub-keys share one table
    rules: dict[str, list[str]] = {}
    for name, sub in schema.get("properties", {}).items():
        rows: list[dict] = []
        _rows(sub, schema, name, name in req, rows)
        if len(rows) == 1:
            scalars += rows
        else:
            sections.append((f"`{name}`", rows))
            rules[f"`{name}`"] = _rules(sub, schema, name)
    if scalars:
        sections.insert(0, ("Top-level keys", scalars))
    for title, rows in sections:
        lines += [f"{h}# {title}", "", *_table(rows), ""]
        if rules.get(title):
            lines += ["Also checked:", "", *(f"- {rule}" for rule in rules[title]), ""]
    return "\n".join(lines)


def _table(rows: list[dict]) -> list[str]:
    return ["| key | type | default | required | description |", "|---|---|---|---|---|"] + [
        f"| `{_cell(r['key'])}` | {_cell(r['type'])} | {_cell(r['default'])} | {r['required']} | {_cell(r['description'])} |"
        for r in rows
    ]


def render() -> str:
    parts = [
        "# Configuration reference",
        "",
        f"<!-- GENERATED from lemma/schemas/*.schema.yaml by `{GENERATED_BY}`; do not edit by hand. -->",
        "",
        "Every config is validated against these schemas when the Snakefile loads, before any job runs; "
        "keys left out take the defaults below. The built-in default is `config/config.yaml`; real-model "
        "examples are in `config/examples/`. Dataset layouts: [data.md](data.md); the LLM teacher: "
        "[teachers.md](teachers.md).",
        "",
        (
            "Beyond the schema, the same config check (the Snakefile's and `lemma doctor`'s) refuses what a "
            "schema cannot see: an API key or token written anywhere in `teacher` (give the variable's NAME in "
            "`teacher.api_key_env`), names that must agree across sections or with the taxonomy "
            "(`augment.types`, `variants.<name>.strategies`, a dataset and a benchmark of one name), "
            "`training.global_batch` not a multiple of `training.per_device_batch`, files and model "
            "directories that do not exist (`variants.<name>.file`, the teacher's prompts, local models), "
            "`prompt_template: chat` for a tokenizer without a chat template, and a multi-GPU full "
            "fine-tune too big for `training.gpu_memory_gb` without a sharding `accelerate_config`."
        ),
        "",
    ]
    for name in SCHEMAS:
        parts.append(render_schema(load_schema(name), f"lemma/schemas/{name}.schema.yaml"))
    return "\n".join(parts).rstrip("\n") + "\n"


def main() -> int:
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
