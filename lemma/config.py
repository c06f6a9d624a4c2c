"""Load and validate the workflow's config and taxonomy, before any job starts.

Validation is JSON Schema (lemma/schemas/*.schema.yaml) with defaults filled in; the schema says
every rule it can (types, ranges, enums, which keys go with which teacher kind or engine). Python
adds only what a schema cannot say: names that must agree across sections or with the taxonomy file,
files and model directories that must exist, a secret written into the config, a model too big for
its GPUs. Every problem is reported at once, each naming the file, the key and what was expected,
so a user fixes a config in one pass.

The checks are pure (they return problems); what is filled in or derived is done by functions
named for it (`fill_defaults`, `fill_derived`). `load_workflow_config` is the one entry point: the
Snakefile and `lemma doctor` both call it, so they find the same problems. A ConfigError stops
Snakemake before it schedules anything, which leaves existing results untouched.
"""

from __future__ import annotations

import copy
import json
import os
import struct
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jsonschema
import yaml

from lemma.teacher.base import TypeSpec
from lemma.teacher.checks import looks_like_secret, secret_problems, teacher_problems

# The schemas ship inside the package, so a non-editable install validates configs without a checkout.
SCHEMAS = resources.files("lemma") / "schemas"

# The paper's released code injects these six types (lemma-method.md, "Pipeline as released").
PAPER_AUGMENT_TYPES = [
    "calculation_error",
    "missing_step",
    "confusing_concept_error",
    "question_misinterpretation",
    "formula_confusion_error",
    "counting_error",
]


class ConfigError(ValueError):
    """A config or taxonomy problem; the message lists every problem found."""


@dataclass(frozen=True)
class Problem:
    file: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: key '{self.key}': {self.message}"


def _with_defaults(validator_class):
    """A validator that fills `default`s in as it validates (the jsonschema FAQ recipe)."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if isinstance(sub, dict) and "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


_FillingValidator = _with_defaults(jsonschema.Draft202012Validator)


def load_schema(name: str) -> dict:
    return yaml.safe_load((SCHEMAS / f"{name}.schema.yaml").read_text(encoding="utf-8"))


def _missing_key(error: jsonschema.ValidationError) -> str | None:
    """The key a `required` error is about (jsonschema yields one error per missing key)."""
    if error.validator != "required" or not isinstance(error.instance, dict):
        return None
    return next(
        (k for k in error.validator_value if k not in error.instance and error.message.startswith(repr(k))), None
    )


def _key_path(error: jsonschema.ValidationError) -> str:
    parts = [str(p) for p in error.absolute_path]
    missing = _missing_key(error)
    if missing is not None:
        parts.append(missing)
    elif "propertyNames" in error.schema_path:  # the error is about a key's name: name that key
        parts.append(str(error.instance))
    return ".".join(parts) if parts else "(top level)"


def _describe(error: jsonschema.ValidationError) -> str:
    """The error in words. A schema node may carry `x-message`: the rule's own explanation (what a
    conditional `then` wants, say), where jsonschema's text would only name the keyword."""
    if isinstance(error.schema, dict) and "x-message" in error.schema:
        return error.schema["x-message"].format(instance=error.instance)
    if looks_like_secret(error.instance):  # e.g. a key pasted into base_url: say what, not the value
        return f"{error.validator} {error.validator_value!r} not met (value not shown: it looks like a key or token)"
    v = error.validator
    if v == "enum":
        return f"expected one of {error.validator_value}, got {error.instance!r}"
    if v == "type":
        return f"expected {error.validator_value}, got {type(error.instance).__name__} {error.instance!r}"
    if v in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        words = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}
        return f"expected a number {words[v]} {error.validator_value}, got {error.instance!r}"
    if v == "additionalProperties":
        return f"unknown key(s): {error.message.split('(')[-1].rstrip(')')}"
    if v == "required":
        return "required but missing"
    return error.message


def fill_defaults(data: dict, schema_name: str) -> None:
    """Fill the schema's `default`s into `data` in place (where the data has the right shape)."""
    for _ in _FillingValidator(load_schema(schema_name)).iter_errors(data):
        pass


def schema_problems(data: dict, schema_name: str, file: str, schema: dict | None = None) -> list[Problem]:
    """What the schema says is wrong with `data`; reads it only."""
    validator = jsonschema.Draft202012Validator(schema if schema is not None else load_schema(schema_name))
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    return [Problem(file, _key_path(e), _describe(e)) for e in errors]


def validate(data: dict, schema_name: str, file: str) -> list[Problem]:
    """Fill the schema's defaults into `data` in place, then return its schema problems."""
    fill_defaults(data, schema_name)
    return schema_problems(data, schema_name, file)


def section_problems(section, name: str, file: str = "config") -> list[Problem]:
    """Schema problems of one top-level section alone (a teacher section handed to build_teacher),
    checked by the same schema node as a whole config; `section` is not changed."""
    full = load_schema("config")
    schema = {**full, "required": [name], "properties": {name: full["properties"][name]}}
    return schema_problems({name: section}, "config", file, schema)


def load_yaml(path: str | os.PathLike) -> dict:
    path = str(path)
    try:
        with open(path) as f:
            data = yaml.safe_load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def load_taxonomy(path: str | os.PathLike) -> list[TypeSpec]:
    data = load_yaml(path)
    problems = validate(data, "taxonomy", str(path))  # fills the taxonomy's defaults, then checks
    names = [t.get("name") for t in data.get("types", []) if isinstance(t, dict)]
    for i, name in enumerate(names):
        if names.index(name) != i:
            problems.append(Problem(str(path), f"types.{i}.name", f"duplicate error type {name!r}"))
    if problems:
        raise ConfigError("invalid taxonomy:\n  " + "\n  ".join(map(str, problems)))
    return [TypeSpec.from_dict(t) for t in data["types"]]


def default_augment_types(type_names: list[str]) -> list[str]:
    """augment.types when the config gives none: the paper's six, those the taxonomy has."""
    return [t for t in PAPER_AUGMENT_TYPES if t in type_names]


def fill_derived(cfg: dict, type_names: list[str]) -> None:
    """Fill in place the defaults that depend on more than the schema: augment.types (the taxonomy's)."""
    cfg.setdefault("augment", {}).setdefault("types", default_augment_types(type_names))


def semantic_checks(cfg: dict, file: str, type_names: list[str]) -> list[Problem]:
    """Rules across sections and with the taxonomy, which the schema cannot state; reads `cfg` only."""
    problems = []
    for name in sorted(set(cfg.get("datasets", {})) & set(cfg.get("benchmarks", {}))):
        problems.append(
            Problem(file, f"benchmarks.{name}", "the name is also a dataset's: outputs share a path, rename one")
        )
    aug_types = cfg.get("augment", {}).get("types", default_augment_types(type_names))
    for i, t in enumerate(aug_types):
        if t not in type_names:
            problems.append(
                Problem(file, f"augment.types.{i}", f"{t!r} is not in the taxonomy; expected one of {type_names}")
            )
    for name, v in cfg.get("variants", {}).items():
        if not any(
            (v.get("reference", True), v.get("trajectories", False), v.get("student_correct", False), v.get("file"))
        ):
            problems.append(
                Problem(
                    file, f"variants.{name}", "an empty SFT set: needs reference, trajectories, student_correct or file"
                )
            )
        for i, s in enumerate(v.get("strategies", [])):
            if s not in cfg.get("correct", {}).get("strategies", []):
                problems.append(Problem(file, f"variants.{name}.strategies.{i}", f"{s!r} is not in correct.strategies"))
    if cfg.get("prompt_template") == "chat":
        model = cfg.get("student", {}).get("model")
        if model == "builtin":
            problems.append(
                Problem(
                    file,
                    "prompt_template",
                    "'chat' needs a student whose tokenizer has a chat "
                    "template; the built-in student has none (use world)",
                )
            )
        elif model and Path(model).is_dir():
            from lemma.text.prompting import has_chat_template

            if not has_chat_template(model):
                problems.append(
                    Problem(
                        file,
                        "prompt_template",
                        f"'chat': the tokenizer in {model!r} has no chat "
                        "template (no chat_template.jinja, none in tokenizer_config.json); use alpaca",
                    )
                )
    gate = (cfg.get("judge_bench") or {}).get("gate")
    if gate and gate.get("set") not in (cfg.get("judge_bench") or {}).get("sets", {}):
        problems.append(Problem(file, "judge_bench.gate.set", f"{gate.get('set')!r} is not a set of judge_bench.sets"))
    tr = cfg.get("training", {})
    if tr.get("global_batch", 1) % tr.get("per_device_batch", 1):
        problems.append(Problem(file, "training.global_batch", "expected a multiple of training.per_device_batch"))
    return problems


# accelerate `distributed_type`s that shard the optimizer state (and more) across GPUs
SHARDED_TYPES = ("DEEPSPEED", "FSDP")
# A full fine-tune with AdamW keeps, per parameter: fp32 weights (4 bytes), their gradients (4) and
# two fp32 moments (8), before any activation. Plain data parallel holds all of it on every GPU.
DDP_BYTES_PER_PARAM = 16


def count_parameters(model_dir: str | os.PathLike) -> int | None:
    """Parameters of a local HF model, read from its safetensors headers only (no weights are
    loaded); None when the directory holds no safetensors files."""
    files = sorted(Path(model_dir).glob("*.safetensors"))
    if not files:
        return None
    total = 0
    for f in files:
        with open(f, "rb") as fh:
            (n,) = struct.unpack("<Q", fh.read(8))
            header = json.loads(fh.read(n))
        for name, entry in header.items():
            if name != "__metadata__":
                size = 1
                for d in entry["shape"]:
                    size *= d
                total += size
    return total


def _accelerate_type(path: Path) -> str | None:
    data = yaml.safe_load(path.read_text()) or {}
    return data.get("distributed_type") if isinstance(data, dict) else None


def training_checks(cfg: dict, file: str, workdir: str | os.PathLike = ".") -> list[Problem]:
    """Refuse a multi-GPU full fine-tune that cannot fit: plain data parallel (no accelerate config,
    or a MULTI_GPU one) replicates weights, gradients and AdamW state on every GPU, so a 7-8B model
    runs out of memory only after sampling and the teacher rules have been paid for."""
    tr = cfg.get("training", {})
    gpus, acc = tr.get("gpus", 0), tr.get("accelerate_config")
    if gpus <= 1:
        return []
    kind = None
    if acc:
        path = Path(acc) if Path(acc).is_absolute() else Path(workdir) / acc
        if not path.is_file():
            return [
                Problem(
                    file,
                    "training.accelerate_config",
                    f"{acc!r} does not exist (paths are relative to the "
                    "working directory); expected an accelerate config such as config/accelerate/zero2.yaml",
                )
            ]
        kind = _accelerate_type(path)
        if kind in SHARDED_TYPES:
            return []
    model = cfg.get("student", {}).get("model")
    n = count_parameters(model) if model and model != "builtin" and Path(model).is_dir() else None
    if n is None:
        return []
    need_gb = DDP_BYTES_PER_PARAM * n / 1e9
    if need_gb <= tr.get("gpu_memory_gb", 80):
        return []
    how = f"accelerate config {acc!r} ({kind})" if acc else "no accelerate_config"
    return [
        Problem(
            file,
            "training.accelerate_config",
            f"training.gpus={gpus} with {how} is plain data parallel: every GPU would hold the whole "
            f"{n / 1e9:.2f}B-parameter model of {model!r} with its gradients and optimizer state, about "
            f"{need_gb:.0f} GB, more than training.gpu_memory_gb={tr.get('gpu_memory_gb', 80)}; expected a "
            "sharding config: config/accelerate/zero2.yaml (DeepSpeed ZeRO-2, bf16, as in the paper) or "
            "config/accelerate/fsdp.yaml",
        )
    ]


def file_checks(cfg: dict, file: str, workdir: str | os.PathLike = ".") -> list[Problem]:
    """Files the config names that must exist: each variant's external SFT file."""
    problems = []
    for name, v in cfg.get("variants", {}).items():
        f = v.get("file")
        if f and not (Path(workdir) / f).is_file():
            problems.append(
                Problem(file, f"variants.{name}.file", f"no such file {f!r} (relative to {Path(workdir).resolve()})")
            )
    return problems


def _plugin_checks(cfg: dict, file: str, jobs_run_here: bool) -> list[Problem]:
    """Engine and teacher checks owned by their modules (model directory there? vLLM importable?
    a secret in the teacher section? its prompts present?)."""
    from lemma.engines.factory import check_engine_config

    problems = [
        Problem(file, "student", msg) for msg in check_engine_config(cfg["student"], check_packages=jobs_run_here)
    ]
    errors, _ = teacher_problems(cfg["teacher"])
    problems += [Problem(file, key, msg) for key, msg in errors]
    return problems


def load_workflow_config(
    cfg: dict, files: list[str | os.PathLike], workdir: str | os.PathLike = ".", jobs_run_here: bool = True
) -> tuple[dict, list[TypeSpec]]:
    """Fill in `cfg`'s defaults and check it: the one config check, used by the Snakefile and by
    `lemma doctor`. Returns `cfg` (filled in place) and the taxonomy; raises ConfigError listing
    every problem. `jobs_run_here`: jobs run in this Python, so engine packages (vLLM) must import
    here too."""
    # Snakemake hands --configfile paths as PosixPath objects: name them as text
    file = ", ".join(str(f) for f in files) if files else "config"
    fill_defaults(cfg, "config")
    problems = schema_problems(cfg, "config", file)
    # whatever else is wrong: a key written into the config is refused (and never echoed)
    problems += [Problem(file, key, msg) for key, msg in secret_problems(cfg.get("teacher"))]
    taxonomy: list[TypeSpec] = []
    if not problems:
        tax_path = Path(workdir) / cfg["taxonomy"]
        taxonomy = load_taxonomy(tax_path)
        type_names = [t.name for t in taxonomy]
        fill_derived(cfg, type_names)
        problems += semantic_checks(cfg, file, type_names)
        problems += file_checks(cfg, file, workdir)
        problems += training_checks(cfg, file, workdir)
        if not problems:
            problems += _plugin_checks(cfg, file, jobs_run_here)
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(map(str, problems)))
    return cfg, taxonomy


def check_teacher_config(cfg) -> tuple[list[str], list[str]]:
    """(errors, warnings) about one `teacher:` section on its own (the one place a lone section is checked: tests and tools; the workflow checks the whole config at load): the
    config schema's teacher node and secret_problems, then (schema passed) teacher_problems, as
    lemma.config.load_workflow_config runs them. Errors read "teacher.key: message"."""
    errors = [(p.key, p.message) for p in section_problems(cfg, "teacher")] + secret_problems(cfg)
    warnings: list[str] = []
    if not errors:
        errors, warnings = teacher_problems(cfg)
    return [f"{key}: {msg}" for key, msg in errors], warnings
