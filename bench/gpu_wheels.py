"""The wheels bench/gpu_check.py needs on the lent GPU machine, which has no network and only
torch, transformers, accelerate, pandas, pyarrow, sympy and pytest (and what they depend on).

    python bench/gpu_wheels.py --list              # names and versions, no download
    python bench/gpu_wheels.py --download DIR      # the wheels for Python 3.12, manylinux x86-64

Versions are this environment's (importlib.metadata), so the list follows the project's own
pins. The total must stay under BUDGET_MIB: the wheels travel with the code in at most 64 MiB.
What is left out, and why:
- polars: its runtime wheel alone is 54 MB; the check runs the rules' functions without their
  table wrappers (lemma.tables.jsonl reads SFT sets without polars);
- matplotlib: the training curves' PNG is skipped when it is missing (curves.csv has the numbers);
- Snakemake, openai, vLLM: not on the check's path (vLLM's wheel is far over the budget).
tests/test_gpu_check.py runs the check's dry mode and checks that every module it imports is on
the GPU machine, in this list, or optional.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

# the distributions the check imports that the GPU machine lacks: math-verify grades answers;
# sniffio is imported by the Hub client's HTTP stack here without being declared by it (10 KB)
WHEELS = ("math-verify", "latex2sympy2_extended", "antlr4-python3-runtime", "sniffio")
# what the GPU machine has (issue 26), with whatever they depend on
GPU_MACHINE_HAS = ("torch", "transformers", "accelerate", "pandas", "pyarrow", "sympy", "pytest")
# imported when installed, skipped when not (lemma.report.curves.plot_curves)
OPTIONAL = ("matplotlib",)
BUDGET_MIB = 40
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")


def pinned() -> list[str]:
    return [f"{name}=={version(name)}" for name in WHEELS]


def download(dest: Path) -> list[Path]:
    """pip download of exactly WHEELS (no dependencies: the rest is on the GPU machine)."""
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--python-version", "3.12"]
    cmd += ["--implementation", "cp", "-d", str(dest), *[f"--platform={p}" for p in PLATFORMS], *pinned()]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return sorted(dest.glob("*.whl"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--list", action="store_true", help="print the pinned list only")
    ap.add_argument("--download", metavar="DIR", help="download the wheels into DIR and report their size")
    a = ap.parse_args(argv)
    if a.list or not a.download:
        print("\n".join(pinned()))
        if not a.download:
            return 0
    wheels = download(Path(a.download or tempfile.mkdtemp()))
    total = sum(w.stat().st_size for w in wheels)
    for w in wheels:
        print(f"{w.stat().st_size / 2**20:8.2f} MiB  {w.name}")
    print(f"{total / 2**20:8.2f} MiB  total (budget {BUDGET_MIB} MiB)")
    return 0 if total <= BUDGET_MIB * 2**20 else 1


if __name__ == "__main__":
    raise SystemExit(main())
