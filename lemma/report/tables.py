"""What a researcher reads: the workflow's tables as self-contained HTML pages, and example picking.

Snakemake's report shows images and HTML inline but only offers CSV files as downloads, so every
table meant to be read in the report is also rendered here as one HTML page (inline CSS, no
scripts, no external resources: it opens offline, inside the report's frame, without console
errors). The same selection code feeds `lemma show` in the terminal (lemma/cli/show.py).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import polars as pl

from lemma.report.funnel import STAGES
from lemma.tables.records import TRAJECTORIES
from lemma.tables.scores import ScoresTable
from lemma.text.vocabulary import STUDENT_BUCKET

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.2em;color:#222;line-height:1.4}
h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right;vertical-align:top}
th{background:#f0f3f8}td.l,th.l{text-align:left}
tr.student td{font-weight:600}
.note{color:#555;font-size:.88em;max-width:60em}
.ex{border:1px solid #ccc;border-radius:6px;margin:1em 0;padding:.6em .9em;max-width:60em}
.ex h3{font-size:.95em;margin:.1em 0 .5em 0;color:#333}
.part{white-space:pre-wrap;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.88em;
      padding:.45em .6em;margin:.3em 0;border-left:5px solid}
.q{border-color:#999;background:#f7f7f7}
.prefix{border-color:#c0392b;background:#fdecea}
.phrase{border-color:#d4a017;background:#fff6d5;font-weight:600}
.fix{border-color:#27ae60;background:#eaf7ef}
.smooth{border-color:#2c6fbb;background:#eef4fb}
.tag{font-family:system-ui,sans-serif;font-size:.75em;font-weight:700;letter-spacing:.05em;
     text-transform:uppercase;display:block;margin-bottom:.2em;color:#444}
details{margin:.3em 0}
"""


def page(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n"
    )


def _fmt(value, kind: str = "") -> str:
    if value is None:
        return "–"
    if kind == "pct":
        return f"{100 * value:.1f}%"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def html_table(
    rows: list[dict], columns: list[tuple[str, str]], kinds: dict[str, str] | None = None, row_class=None
) -> str:
    """rows -> <table>; columns: (key, header); kinds: key -> "pct" | "text" (left-aligned)."""
    kinds = kinds or {}
    head = "".join(f'<th class="{"l" if kinds.get(k) == "text" else ""}">{html.escape(h)}</th>' for k, h in columns)
    body = []
    for r in rows:
        cls = f' class="{row_class(r)}"' if row_class and row_class(r) else ""
        cells = "".join(
            f'<td class="{"l" if kinds.get(k) == "text" else ""}">{html.escape(_fmt(r.get(k), kinds.get(k, "")))}</td>'
            for k, _ in columns
        )
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


# --- the data funnel -------------------------------------------------------------------------


def funnel_html(table: pl.DataFrame) -> str:
    rows = []
    for r in table.iter_rows(named=True):
        start = r["injected"] if r["bucket"] != STUDENT_BUCKET else r["truncated"]
        rows.append({**r, "yield": (r["kept"] / start) if r["kept"] is not None and start else None})
    cols = [
        ("bucket", "bucket"),
        ("cut", "cut"),
        ("strategy", "strategy"),
        *[(s, s) for s in STAGES],
        ("yield", "kept / start"),
    ]
    note = (
        '<p class="note">Rows surviving each stage. <b>student</b>: the student\'s own wrong samples; other rows: '
        "one injected error type each. For an injected type, <i>classified</i> counts the student's own wrong "
        "samples the type judge gave that type (context, not an upstream stage). <i>kept / start</i> is kept over "
        "injected (injected types) or over truncated (student). – : not applicable or not built yet.</p>"
    )
    return page(
        "Data funnel",
        note
        + html_table(
            rows,
            cols,
            {"bucket": "text", "cut": "text", "strategy": "text", "yield": "pct"},
            row_class=lambda r: "student" if r["bucket"] == STUDENT_BUCKET else "",
        ),
    )


# --- SFT set statistics ------------------------------------------------------------------------


def read_sft_stats(paths: dict[str, str | Path]) -> dict[str, dict]:
    """variant -> its build_sft statistics (results/sft/{variant}.stats.json), checked."""
    out = {}
    for variant, path in paths.items():
        d = json.loads(Path(path).read_text())
        missing = [
            k for k in ("rows", "avg_tokens", "trajectory_share_by_type", "trajectory_share_by_strategy") if k not in d
        ]
        if missing:
            raise ValueError(f"{path}: SFT statistics lack {missing}")
        out[variant] = d
    return out


def sft_overview(stats: dict[str, dict]) -> pl.DataFrame:
    """One row per variant: sizes, average tokens, share of trajectories."""
    rows = []
    for v, d in stats.items():
        traj = d.get("trajectory_rows", d["rows"] - d.get("reference_rows", d["rows"]))
        rows.append(
            {
                "variant": v,
                "rows": d["rows"],
                "reference_rows": d.get("reference_rows"),
                "trajectory_rows": traj,
                "trajectory_share": traj / d["rows"] if d["rows"] else 0.0,
                "avg_tokens": float(d["avg_tokens"]),
                "token_unit": d.get("token_unit", ""),
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "variant": pl.Utf8,
            "rows": pl.Int64,
            "reference_rows": pl.Int64,
            "trajectory_rows": pl.Int64,
            "trajectory_share": pl.Float64,
            "avg_tokens": pl.Float64,
            "token_unit": pl.Utf8,
        },
        orient="row",
    )


def sft_shares(stats: dict[str, dict], key: str) -> pl.DataFrame:
    """Shares of the trajectory rows by error type (key="type") or strategy: a row per value, a column per variant."""
    field = {"type": "trajectory_share_by_type", "strategy": "trajectory_share_by_strategy"}[key]
    values = sorted({k for d in stats.values() for k in d[field]})
    rows = [{key: val, **{v: d[field].get(val) for v, d in stats.items()}} for val in values]
    return pl.DataFrame(rows, schema={key: pl.Utf8, **{v: pl.Float64 for v in stats}}, orient="row")


def sft_stats_html(stats: dict[str, dict]) -> str:
    overview = sft_overview(stats)
    unit = ", ".join(sorted(set(overview["token_unit"]) - {""})) or "tokens"
    body = [
        html_table(
            overview.to_dicts(),
            [
                ("variant", "variant"),
                ("rows", "rows"),
                ("reference_rows", "reference"),
                ("trajectory_rows", "trajectories"),
                ("trajectory_share", "trajectory share"),
                ("avg_tokens", f"avg length ({unit})"),
            ],
            {"variant": "text", "trajectory_share": "pct"},
        )
    ]
    for key, title in (
        ("type", "Share of trajectories by error type"),
        ("strategy", "Share of trajectories by strategy"),
    ):
        t = sft_shares(stats, key)
        body.append(f"<h2>{title}</h2>")
        if t.height:
            body.append(
                html_table(t.to_dicts(), [(c, c) for c in t.columns], {key: "text", **{v: "pct" for v in stats}})
            )
        else:
            body.append('<p class="note">No variant has error-correction trajectories.</p>')
    return page("SFT sets", "\n".join(body))


# --- scores ------------------------------------------------------------------------------------


def scores_html(table: ScoresTable) -> str:
    """The paper's Table 2 layout (variant x benchmark, accuracy with its 95% interval, average):
    a table built by lemma.tables.scores.scores_table, as HTML; each cell also shows correct/total."""
    head = '<th class="l">variant</th>' + "".join(f"<th>{html.escape(h)}</th>" for h in table.headers[1:])
    body = []

    def cell_html(c) -> str:
        acc, spread, ci = c.texts()
        return f'<b>{acc}</b>{spread} <span class="note">({ci})</span><br><span class="note">{c.correct}/{c.n}</span>'

    for variant, cells, rest in table.text_rows(cell_html):
        tds = "".join(f"<td>{x}</td>" for x in cells) + "".join(f"<td>{html.escape(x)}</td>" for x in rest)
        body.append(f'<tr><td class="l">{html.escape(variant)}</td>{tds}</tr>')
    table = f'<table id="scores"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    note = (
        '<p class="note">Accuracy in % with its 95% Wilson interval in brackets, and correct/total; greedy '
        "decoding, n=1. The average is the unweighted mean over benchmarks, as in the paper's Table 2. With several "
        "seeds: the mean over seeds ± its standard deviation; the interval and counts are pooled over seeds.</p>"
    )
    return page("Scores", table + note)


# --- example trajectories ----------------------------------------------------------------------


def student_types(labels: pl.DataFrame | None) -> dict[tuple[str, int], str]:
    """(problem_id, sample_index) -> the type judge's label, for the student's own mistakes."""
    if labels is None:
        return {}
    return {
        (r["problem_id"], r["sample_index"]): r["error_type"]
        for r in labels.drop_nulls("error_type").iter_rows(named=True)
    }


def with_types(traj: pl.DataFrame, labels: pl.DataFrame | None) -> pl.DataFrame:
    """The trajectories with `error_type` filled in for the student's own mistakes from the labels."""
    own = student_types(labels)
    if not own or traj.height == 0:
        return traj
    filled = [
        t if t is not None else own.get((p, s))
        for t, p, s in zip(traj["error_type"], traj["problem_id"], traj["sample_index"])
    ]
    return traj.with_columns(pl.Series("error_type", filled, dtype=pl.Utf8))


def read_trajectories(paths: list[str | Path]) -> pl.DataFrame:
    frames = []
    for p in paths:
        df = pl.read_parquet(p)
        missing = [c for c in ("prefix", "phrase", "continuation", "smoothed") if c not in df.columns]
        if missing:
            raise ValueError(f"{p}: trajectory table lacks columns {missing}")
        frames.append(df.select([c for c in TRAJECTORIES if c in df.columns]))
    return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame(schema=TRAJECTORIES)


def pick_examples(
    traj: pl.DataFrame, n: int, error_type: str | None = None, strategy: str | None = None, bucket: str | None = None
) -> pl.DataFrame:
    """At most n trajectories, distinct problems first, in a stable order (sorted by problem and sample)."""
    df = traj
    if error_type:
        df = df.filter(pl.col("error_type") == error_type)
    if strategy:
        df = df.filter(pl.col("strategy") == strategy)
    if bucket:
        df = df.filter(pl.col("bucket") == bucket)
    df = df.sort(["problem_id", "bucket", "sample_index", "strategy"])
    first = df.unique(subset=["problem_id"], keep="first", maintain_order=True)
    if first.height >= n:
        return first.head(n)
    rest = df.join(
        first.select("problem_id", "bucket", "sample_index", "strategy"),
        on=["problem_id", "bucket", "sample_index", "strategy"],
        how="anti",
    )
    return pl.concat([first, rest.head(n - first.height)])


def _part(cls: str, tag: str, text: str) -> str:
    return f'<div class="part {cls}"><span class="tag">{html.escape(tag)}</span>{html.escape(text)}</div>'


def example_html(r: dict, question: str | None = None) -> str:
    where = "the student's own mistake" if r["bucket"] == STUDENT_BUCKET else "injected by the teacher"
    head = (
        f"{html.escape(r['problem_id'])} · sample {r['sample_index']} · {html.escape(r['error_type'] or 'unlabelled')} "
        f"· {html.escape(r['strategy'])} · {where}"
    )
    parts = [f"<h3>{head}</h3>"]
    if question:
        parts.append(_part("q", "question", question))
    parts += [
        _part("prefix", "wrong prefix (up to its first wrong step)", r["prefix"]),
        _part("phrase", "reflection", r["phrase"]),
        _part("fix", "correction", r["continuation"]),
    ]
    if r.get("smoothed"):
        parts.append(
            f"<details><summary>smoothed trajectory (the SFT response)</summary>"
            f"{_part('smooth', 'smoothed', r['smoothed'])}</details>"
        )
    return f'<div class="ex">{"".join(parts)}</div>'


def examples_html(
    traj: pl.DataFrame,
    title: str,
    n_per_strategy: int,
    questions: dict[str, str] | None = None,
    strategies: list[str] | None = None,
) -> str:
    questions = questions or {}
    if not strategies:
        strategies = sorted(set(traj["strategy"])) if traj.height else []
    body = [
        '<p class="note">Kept trajectories: the <b>wrong prefix</b> (red), the <b>reflection phrase</b> (yellow) '
        "and the teacher's <b>correction</b> (green), as written before smoothing; the smoothed text that enters "
        "the SFT set is folded below each.</p>"
    ]
    for s in strategies:
        ex = pick_examples(traj, n_per_strategy, strategy=s)
        body.append(f"<h2>{html.escape(s)} ({ex.height} of {traj.filter(pl.col('strategy') == s).height})</h2>")
        body += [example_html(r, questions.get(r["problem_id"])) for r in ex.iter_rows(named=True)]
        if ex.height == 0:
            body.append('<p class="note">No kept trajectory.</p>')
    return page(title, "\n".join(body))


# --- training curves ---------------------------------------------------------------------------


def read_curves(path: str | Path) -> list[dict]:
    """curves.csv written by the train rule (lemma/report/curves.py): one row per logging step."""
    from lemma.report.curves import COLUMNS

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: no training curves; the train rule writes curves.csv into the model directory"
        )
    df = pl.read_csv(path, infer_schema=False)
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: columns {missing} missing; expected {COLUMNS}")
    # empty cells (a metric not logged) read as NaN, as curve_rows writes them
    num = df.select(
        [pl.col("step").cast(pl.Int64)]
        + [pl.col(c).cast(pl.Float64, strict=False).fill_null(float("nan")) for c in COLUMNS if c != "step"]
    )
    return num.to_dicts()


def plot_loss_overlay(curves: dict[str, list[dict]], path: str | Path) -> None:
    """Training loss of every variant on one axis (same settings, so the curves are comparable)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for variant, rows in curves.items():
        pts = [(r["step"], r["loss"]) for r in rows if r["loss"] == r["loss"]]  # NaN != NaN
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], lw=1.4, label=variant)
    if ax.lines and all(y > 0 for line in ax.lines for y in line.get_ydata()):
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.set_title("Training loss per variant")
    ax.grid(alpha=0.3, which="both")
    if ax.lines:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)
