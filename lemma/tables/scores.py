"""The scores table's content, built once: the paper's Table 2 layout (a row per variant, a column
per benchmark, then the average and, given the mechanism table, the reflection columns).

`scores_table` decides what the table shows; the renderers only format it: the markdown of
results/scores.md (`lemma.pipeline.evaluate.markdown_table`) and the HTML page of the report
(`lemma.report.tables.scores_html`).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

# the columns a scores table (results/scores.csv) must have; "seeds" and "sd" come with several seeds
SCORE_COLUMNS = ("variant", "benchmark", "n", "correct", "accuracy", "ci_low", "ci_high")
AVERAGE = "avg"
REFLECTION_COLUMNS = ("reflects", "wrong→right", "right→wrong")


@dataclass(frozen=True)
class Cell:
    """One variant on one benchmark. `sd` is set only when the table has several seeds."""

    accuracy: float
    ci_low: float
    ci_high: float
    correct: int
    n: int
    sd: float | None = None

    def texts(self) -> tuple[str, str, str]:
        """The cell as the renderers print it, in %: accuracy, " ± sd" (or ""), "low–high"."""
        spread = f" ± {100 * self.sd:.1f}" if self.sd is not None else ""
        return f"{100 * self.accuracy:.1f}", spread, f"{100 * self.ci_low:.1f}–{100 * self.ci_high:.1f}"


@dataclass(frozen=True)
class Row:
    variant: str
    cells: list[Cell | None]  # one per benchmark column; None where that pair was not scored
    average: float | None  # in %, over the cells of `average_over` that exist; None when none does
    reflections: list[str]  # the REFLECTION_COLUMNS' cells, when the mechanism table was given


@dataclass(frozen=True)
class ScoresTable:
    benchmarks: list[str]
    rows: list[Row]
    several_seeds: bool  # cells are means over seeds, with their standard deviation
    reflections: bool  # the REFLECTION_COLUMNS are shown

    @property
    def headers(self) -> list[str]:
        return ["variant", *self.benchmarks, AVERAGE, *(REFLECTION_COLUMNS if self.reflections else ())]

    def text_rows(self, cell_text) -> list[tuple[str, list[str], list[str]]]:
        """Per row: the variant, its benchmark cells through `cell_text(cell)` ("–" where a pair
        was not scored) and the plain-text rest (average, reflection columns): what each renderer
        formats in its own markup."""
        return [
            (
                row.variant,
                ["–" if c is None else cell_text(c) for c in row.cells],
                ["–" if row.average is None else f"{row.average:.1f}", *row.reflections],
            )
            for row in self.rows
        ]


def scores_table(
    scores: pl.DataFrame,
    variants: list[str] | None = None,
    benchmarks: list[str] | None = None,
    average_over: list[str] | None = None,
    mechanism: pl.DataFrame | None = None,
) -> ScoresTable:
    """The table of `scores` (results/scores.csv: one row per variant and benchmark). Variants and
    benchmarks default to those of `scores`, in order of appearance; the average is over
    `average_over` (default: every benchmark column; the workflow leaves out its maj@k columns).
    `mechanism` (results/mechanism/reflections.csv) adds the reflection columns, pooled over
    benchmarks and seeds."""
    missing = [c for c in SCORE_COLUMNS if c not in scores.columns]
    if missing:
        raise ValueError(f"scores table lacks columns {missing}; expected {list(SCORE_COLUMNS)}")
    variants = list(dict.fromkeys(scores["variant"])) if variants is None else variants
    benchmarks = list(dict.fromkeys(scores["benchmark"])) if benchmarks is None else benchmarks
    average_over = benchmarks if average_over is None else average_over
    several = "seeds" in scores.columns and bool((scores["seeds"] > 1).any())
    by_pair = {(r["variant"], r["benchmark"]): r for r in scores.iter_rows(named=True)}
    rows = []
    for v in variants:
        cells, averaged = [], []
        for b in benchmarks:
            r = by_pair.get((v, b))
            if r is None:
                cells.append(None)
                continue
            if b in average_over:
                averaged.append(100 * r["accuracy"])
            cells.append(
                Cell(r["accuracy"], r["ci_low"], r["ci_high"], r["correct"], r["n"], r.get("sd") if several else None)
            )
        reflections = []
        if mechanism is not None:
            m = mechanism.filter(pl.col("variant") == v)
            n, refl = int(m["n"].sum()), int(m["reflects"].sum())
            reflections = [f"{refl} of {n}", str(int(m["self_correction"].sum())), str(int(m["harmful"].sum()))]
        rows.append(Row(v, cells, sum(averaged) / len(averaged) if averaged else None, reflections))
    return ScoresTable(benchmarks, rows, several, mechanism is not None)
