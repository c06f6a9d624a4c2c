"""Build an engine from a config block, and check that block before any job starts.

A config block looks like the `student:` section of config/config.yaml:
    {"engine": "hf" | "vllm" | "openai", "model": <local dir or "builtin">, "batch_size": 64,
     "threads": 1, "device": "auto", "dtype": "auto", "tensor_parallel_size": 1, ...}
Only the keys an engine understands are passed to it, so one block can carry settings for
several engines (switching `engine:` is then a one-line change).

Engines are imported lazily: the vLLM and OpenAI engines pull in heavy or optional packages that a
CPU-only run never needs.
"""

from __future__ import annotations

from pathlib import Path

from lemma.engines.base import Engine, EngineUnavailable

ENGINES = ("hf", "vllm", "openai")

# "builtin" is not a path: the workflow resolves it to the tiny student it pre-trains itself.
BUILTIN_MODEL = "builtin"


def _pick(cfg: dict, keys: tuple[str, ...]) -> dict:
    return {k: cfg[k] for k in keys if cfg.get(k) is not None}


def build_engine(cfg: dict) -> Engine:
    """The engine `cfg["engine"]` for the model `cfg["model"]` (a local directory for hf/vllm)."""
    problems = check_engine_config(cfg)
    if problems:
        raise EngineUnavailable("; ".join(problems))
    kind = cfg["engine"]
    if kind == "hf":
        from lemma.engines.hf import HFEngine

        return HFEngine(cfg["model"], **_pick(cfg, ("device", "dtype", "batch_size", "threads")))
    if kind == "vllm":
        from lemma.engines.vllm_engine import VLLMEngine

        keys = ("tensor_parallel_size", "dtype", "gpu_memory_utilization", "max_model_len", "seed")
        return VLLMEngine(cfg["model"], **_pick(cfg, keys))
    # openai: its constructor owns the meaning of its keys (base_url, api key env, concurrency, ...).
    from lemma.engines.openai_engine import OpenAIEngine

    return OpenAIEngine(cfg)


def check_engine_config(cfg: dict, check_packages: bool = True) -> list[str]:
    """Problems with an engine block, as sentences; empty when it can be built. What a schema
    cannot see: the model directory and the engine's package. The keys' types and ranges are the
    config schema's (student, and a teacher on a local engine).

    Called at config validation so that a missing package or model directory stops the run before
    any (GPU) job is submitted. `check_packages=False` where jobs do not run in this Python (a
    cluster executor, `--sdm conda`): vLLM lives in the jobs' env there, not on the login node.
    """
    kind = cfg.get("engine")
    if kind not in ENGINES:
        return [f"unknown engine {kind!r}; expected one of {', '.join(ENGINES)}"]
    problems = []
    model = cfg.get("model")
    if kind in ("hf", "vllm"):
        if not model:
            problems.append(f"engine {kind!r} needs `model`: a local model directory (HF format)")
        elif model != BUILTIN_MODEL:
            path = Path(model)
            if not path.is_dir():
                problems.append(f"model directory {model!r} does not exist")
            elif not (path / "config.json").is_file():
                problems.append(
                    f"model directory {model!r} has no config.json; expected a model saved with "
                    "save_pretrained (HF format)"
                )
    if kind == "vllm" and check_packages:
        from lemma.engines.vllm_engine import VLLM_MISSING, vllm_available

        if not vllm_available():
            problems.append(VLLM_MISSING)
    return problems
