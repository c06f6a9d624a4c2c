"""docs/config.md is generated from the JSON schemas; it must never drift from them."""

from __future__ import annotations

import subprocess
import sys

from lemma.config import load_schema
from lemma.config_doc import GENERATED_BY, render, render_schema
from tests.workflow_helpers import REPO


def test_docs_config_md_matches_the_schemas():
    committed = (REPO / "docs/config.md").read_text()
    assert committed == render(), f"docs/config.md is out of date with lemma/schemas/; regenerate it: {GENERATED_BY}"


def test_module_prints_the_same_text():
    proc = subprocess.run([sys.executable, "-m", "lemma.config_doc"], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0 and proc.stdout == render()


def _leaf_paths(node: dict, root: dict, path: str) -> list[str]:
    if "$ref" in node:
        target = root
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = {**target, **node}
    out = [path]
    for name, sub in node.get("properties", {}).items():
        out += _leaf_paths(sub, root, f"{path}.{name}")
    if isinstance(node.get("additionalProperties"), dict):
        out += _leaf_paths(node["additionalProperties"], root, f"{path}.<name>")
    return out


def test_every_config_key_has_a_row():
    schema = load_schema("config")
    doc = render()
    for name, sub in schema["properties"].items():
        for path in _leaf_paths(sub, schema, name):
            assert f"| `{path}` |" in doc, path


def test_rows_carry_type_default_requirement_and_constraints():
    schema = {
        "title": "t",
        "type": "object",
        "required": ["m"],
        "$defs": {
            "src": {
                "type": "object",
                "required": ["kind"],
                "properties": {
                    "kind": {"enum": ["a", "b"], "description": "which | one"},
                    "n": {"type": ["integer", "null"], "minimum": 1, "default": None},
                },
            }
        },
        "properties": {
            "m": {"type": "object", "additionalProperties": {"$ref": "#/$defs/src"}, "description": "by name"},
            "xs": {"type": "array", "items": {"type": "string"}, "minItems": 1, "default": ["p"]},
        },
    }
    lines = render_schema(schema, "s.yaml").splitlines()
    assert "| `m.<name>.kind` | one of `a`, `b` |  | yes | which \\| one |" in lines
    assert "| `m.<name>.n` | integer or null | `null` |  | >= 1 |" in lines
    assert '| `xs` | list of string | `["p"]` |  | not empty |' in lines
    assert "| `m` | object |  | yes | by name |" in lines
