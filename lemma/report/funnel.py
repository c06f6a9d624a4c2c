"""The data funnel: how many rows survived each stage, per bucket, cut and strategy.

A bucket is "student" (the student's own wrong samples) or one injected error type. Stages:

  samples     student samples graded (all training datasets)
  wrong       of those, wrong
  classified  student bucket: wrong samples the type judge gave a type;
              an injected type: the student's own wrong samples labelled with that type
  injected    injected type only: mistakes kept by inject_errors (wrong final answer)
  truncated   wrong solutions cut after their first wrong step (or kept whole, cut=whole)
  corrected   corrections the teacher wrote (per strategy)
  smoothed    trajectories the smoothing teacher rewrote
  kept        smoothed trajectories whose final answer is right

Counts come from the stage stats files every stage writes beside its table
(`<output>.stats.json` = {"stage", "in", "out", "dropped": {reason: count}}) and from the graded and
label tables. A count is None where the stage does not apply or its file is not there yet, so the
funnel of a half-finished run is still shown.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from lemma.text.vocabulary import CUTS, FINAL_ANSWER_WRONG, FIRST_ERROR, GRADE_DROP_PREFIX, STRATEGIES, STUDENT_BUCKET

STAGES = ("samples", "wrong", "classified", "injected", "truncated", "corrected", "smoothed", "kept")

FUNNEL = {"bucket": pl.Utf8, "cut": pl.Utf8, "strategy": pl.Utf8, **{s: pl.Int64 for s in STAGES}}

# smooth_and_filter drops after smoothing for these reasons (the filter); any other reason is a
# smoothing failure (lemma/pipeline/correct.py: smooth_and_filter)
_FILTER_REASONS = (FINAL_ANSWER_WRONG,)
_FILTER_PREFIX = GRADE_DROP_PREFIX


class FunnelError(ValueError):
    pass


def read_stage_stats(path: str | Path) -> dict:
    """One stage stats file, checked: its `in`/`out` counts and `dropped` reasons."""
    path = Path(path)
    try:
        d = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise FunnelError(f"{path}: not valid JSON ({e})") from None
    missing = [k for k in ("stage", "in", "out", "dropped") if k not in d]
    if missing:
        raise FunnelError(f"{path}: stage stats lack {missing}; expected keys stage, in, out, dropped")
    if not isinstance(d["dropped"], dict):
        raise FunnelError(f"{path}: 'dropped' must map reason to count, got {type(d['dropped']).__name__}")
    return d


def smoothed_count(stats: dict) -> int:
    """Rows that came out of the smoothing teacher (before the final-answer filter)."""
    failed = sum(
        n
        for reason, n in stats["dropped"].items()
        if reason not in _FILTER_REASONS and not reason.startswith(_FILTER_PREFIX)
    )
    return stats["in"] - failed


def _out(path: Path) -> int | None:
    return read_stage_stats(path)["out"] if path.exists() else None


def _graded_counts(results: Path) -> tuple[int | None, int | None]:
    files = sorted((results / "graded").glob("*.parquet"))
    if not files:
        return None, None
    df = pl.concat([pl.read_parquet(f, columns=["correct"]) for f in files])
    return df.height, int((~df["correct"]).sum())


def _label_counts(results: Path) -> dict[str, int] | None:
    """Wrong student samples per labelled error type (None if the type judge has not run)."""
    path = results / "taxonomy" / "labels.parquet"
    if not path.exists():
        return None
    labels = pl.read_parquet(path, columns=["error_type"]).drop_nulls("error_type")
    return dict(labels.group_by("error_type").len().iter_rows())


def discover(results: Path) -> tuple[list[str], list[str], list[str]]:
    """Buckets, cuts and strategies that have stats files under `results`, in a stable order."""
    types = {p.name.removesuffix(".stats.json") for p in (results / "mistakes").glob("*.stats.json")}
    cuts, buckets = set(), set()
    for p in (results / "truncated").glob("*/*.stats.json"):
        cuts.add(p.parent.name)
        buckets.add(p.name.removesuffix(".stats.json"))
    strategies = {p.parent.name for p in (results / "corrections").glob("*/*/*.stats.json")}
    types |= buckets - {STUDENT_BUCKET}
    ordered = lambda found, order: [x for x in order if x in found] + sorted(found - set(order))  # noqa: E731
    return [STUDENT_BUCKET, *sorted(types)], ordered(cuts, CUTS) or [FIRST_ERROR], ordered(strategies, STRATEGIES)


def funnel(
    results: str | Path = "results",
    buckets: list[str] | None = None,
    cuts: list[str] | None = None,
    strategies: list[str] | None = None,
) -> pl.DataFrame:
    """The funnel table (schema FUNNEL), one row per bucket x cut x strategy.

    buckets/cuts/strategies default to what is found under `results`; the workflow passes the
    config's, so files of error types no longer configured are not shown."""
    results = Path(results)
    found_buckets, found_cuts, found_strategies = discover(results)
    buckets = buckets or found_buckets
    cuts = cuts or found_cuts
    strategies = strategies or found_strategies or list(STRATEGIES)
    n_samples, n_wrong = _graded_counts(results)
    labels = _label_counts(results)
    rows = []
    for bucket in buckets:
        if labels is None:
            classified = None
        elif bucket == STUDENT_BUCKET:
            classified = sum(labels.values())
        else:
            classified = labels.get(bucket, 0)
        injected = None if bucket == STUDENT_BUCKET else _out(results / "mistakes" / f"{bucket}.stats.json")
        for cut in cuts:
            truncated = _out(results / "truncated" / cut / f"{bucket}.stats.json")
            for strategy in strategies:
                corrected = _out(results / "corrections" / cut / strategy / f"{bucket}.stats.json")
                traj = results / "trajectories" / cut / strategy / f"{bucket}.stats.json"
                smoothed = kept = None
                if traj.exists():
                    st = read_stage_stats(traj)
                    smoothed, kept = smoothed_count(st), st["out"]
                rows.append(
                    {
                        "bucket": bucket,
                        "cut": cut,
                        "strategy": strategy,
                        "samples": n_samples,
                        "wrong": n_wrong,
                        "classified": classified,
                        "injected": injected,
                        "truncated": truncated,
                        "corrected": corrected,
                        "smoothed": smoothed,
                        "kept": kept,
                    }
                )
    return pl.DataFrame(rows, schema=FUNNEL, orient="row")


def drop_reasons(results: str | Path = "results") -> pl.DataFrame:
    """Every stats file's drop reasons, long: file, stage, reason, count (for `lemma stats -v`)."""
    results = Path(results)
    rows = []
    for p in sorted(results.rglob("*.stats.json")):
        if p.relative_to(results).parts[0] == "sft":
            continue  # the SFT sets' statistics are not stage stats files
        st = read_stage_stats(p)
        for reason, n in st["dropped"].items():
            rows.append({"file": str(p.relative_to(results)), "stage": st["stage"], "reason": reason, "count": int(n)})
    return pl.DataFrame(
        rows, schema={"file": pl.Utf8, "stage": pl.Utf8, "reason": pl.Utf8, "count": pl.Int64}, orient="row"
    )


def plotted_stages(bucket: str) -> tuple[str, ...]:
    """The stages a bucket's line runs through: the student's own mistakes from the samples on;
    an injected type from its injection on (its `classified` count is context, not an upstream stage)."""
    if bucket == STUDENT_BUCKET:
        return tuple(s for s in STAGES if s != "injected")
    return STAGES[STAGES.index("injected") :]


def plot_funnel(table: pl.DataFrame, path: str | Path, title: str = "Data funnel: rows surviving each stage") -> None:
    """One panel per cut x strategy; one line per bucket across the stages (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    panels = table.select("cut", "strategy").unique(maintain_order=True).rows()
    fig, axes = plt.subplots(
        1, max(1, len(panels)), figsize=(5.6 * max(1, len(panels)), 4.4), squeeze=False, sharey=True
    )
    x = list(range(len(STAGES)))
    for ax, (cut, strategy) in zip(axes[0], panels):
        part = table.filter((pl.col("cut") == cut) & (pl.col("strategy") == strategy))
        for k, r in enumerate(part.iter_rows(named=True)):
            pts = [(i, r[s]) for i, s in enumerate(STAGES) if s in plotted_stages(r["bucket"]) and r[s]]
            if not pts:
                continue
            if r["bucket"] == STUDENT_BUCKET:
                style = {"lw": 2.4, "color": "black", "marker": "o"}
            else:  # several types often have equal counts: markers and dashes keep each line visible
                style = {"lw": 1.3, "marker": "sD^v<>p*"[k % 8], "ls": ("-", "--", ":", "-.")[k % 4]}
            ax.plot([p[0] for p in pts], [p[1] for p in pts], ms=4, label=r["bucket"], **style)
        ax.set_yscale("log")
        # plain numbers at 1-2-5 steps instead of matplotlib's 2x10^2 labels
        ax.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_xticks(x, STAGES, rotation=35, ha="right")
        ax.set_title(f"{strategy} (cut: {cut})", fontsize=10)
        ax.grid(alpha=0.3, which="both")
    axes[0][0].set_ylabel("rows (log scale)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 4), fontsize=8, frameon=False)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.1 if handles else 0, 1, 1))
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)
