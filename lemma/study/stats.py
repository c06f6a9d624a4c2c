"""Paired statistics for comparing two fine-tuned variants on the same test items.

Two variants answer the same items, so their accuracies are not independent samples: an item that
is easy for one is usually easy for the other. Comparing two intervals side by side wastes that
pairing; these functions use it.

* `paired_bootstrap`: the difference in accuracy (a − b) and a 95% percentile interval from
  resampling the items with replacement. With several seeds an item's score is its mean over the
  seeds, so the interval covers which test items were drawn; the seed-to-seed spread is reported
  separately (mean and standard deviation over seeds).
* `mcnemar_exact`: McNemar's exact test on one pair of runs: only the discordant items count (b:
  a right and b wrong, c: the reverse); under "no difference" each is equally likely, so the
  two-sided p-value is a binomial tail, doubled.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def paired_bootstrap(
    a: Sequence[float], b: Sequence[float], n_boot: int = 10000, seed: int = 0, level: float = 0.95
) -> tuple[float, float, float]:
    """(difference, low, high): mean(a − b) over items and its percentile interval."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"paired_bootstrap: a and b must be equally long 1-d sequences, got {x.shape} and {y.shape}")
    if x.size == 0:
        raise ValueError("paired_bootstrap: no items")
    d = x - y
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    chunk = max(1, 2_000_000 // d.size)  # bounded memory whatever the number of items
    for start in range(0, n_boot, chunk):
        k = min(chunk, n_boot - start)
        means[start : start + k] = d[rng.integers(0, d.size, size=(k, d.size))].mean(axis=1)
    alpha = (1 - level) / 2
    lo, hi = np.quantile(means, [alpha, 1 - alpha])
    return float(d.mean()), float(lo), float(hi)


def discordant(a: Sequence[bool], b: Sequence[bool]) -> tuple[int, int]:
    """(b, c): items a gets right and b wrong, and items b gets right and a wrong."""
    if len(a) != len(b):
        raise ValueError(f"discordant: {len(a)} and {len(b)} items")
    only_a = sum(1 for x, y in zip(a, b) if x and not y)
    only_b = sum(1 for x, y in zip(a, b) if y and not x)
    return only_a, only_b


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts (1.0 when there are none)."""
    n = only_a + only_b
    if n == 0:
        return 1.0
    k = min(only_a, only_b)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


PAIRED_COLUMNS = (
    "benchmark",
    "variant",
    "baseline",
    "seeds",
    "items",
    "accuracy",
    "baseline_accuracy",
    "difference",
    "ci_low",
    "ci_high",
    "only_variant",
    "only_baseline",
    "mcnemar_p",
)


def item_scores(correct_by_seed: dict, ids: list[str]) -> list[float]:
    """Each item's share of right answers over the seeds: {seed: {problem_id: correct}} -> list."""
    seeds = sorted(correct_by_seed)
    out = []
    for pid in ids:
        vals = []
        for s in seeds:
            if pid not in correct_by_seed[s]:
                raise ValueError(f"item {pid!r} missing from the evaluation of seed {s}")
            vals.append(float(bool(correct_by_seed[s][pid])))
        out.append(sum(vals) / len(vals))
    return out


def compare_runs(
    correct: dict[tuple[str, str], dict[int, dict[str, bool]]],
    variants: list[str],
    benchmarks: list[str],
    baseline: str,
    n_boot: int = 10000,
    seed: int = 0,
) -> list[dict]:
    """Every variant against `baseline` on each benchmark. `correct[(variant, benchmark)]` maps a
    seed to {problem_id: correct}. The items are the baseline's; McNemar is given when both sides
    have exactly one run (with several seeds the pairs are not independent; see the module doc)."""
    rows = []
    for bench in benchmarks:
        base = correct[(baseline, bench)]
        ids = sorted(next(iter(base.values())))
        base_scores = item_scores(base, ids)
        for v in variants:
            if v == baseline:
                continue
            mine = correct[(v, bench)]
            scores = item_scores(mine, ids)
            diff, lo, hi = paired_bootstrap(scores, base_scores, n_boot=n_boot, seed=seed)
            only_v = only_b = p = None
            if len(mine) == 1 and len(base) == 1:
                (a,), (b,) = mine.values(), base.values()
                only_v, only_b = discordant([a[i] for i in ids], [b[i] for i in ids])
                p = mcnemar_exact(only_v, only_b)
            rows.append(
                {
                    "benchmark": bench,
                    "variant": v,
                    "baseline": baseline,
                    "seeds": len(mine),
                    "items": len(ids),
                    "accuracy": sum(scores) / len(ids),
                    "baseline_accuracy": sum(base_scores) / len(ids),
                    "difference": diff,
                    "ci_low": lo,
                    "ci_high": hi,
                    "only_variant": only_v,
                    "only_baseline": only_b,
                    "mcnemar_p": p,
                }
            )
    return rows


def pick_baseline(variants: list[str]) -> str:
    """The paper's comparison is against plain SFT: `sft` when there is one, else the first variant."""
    return "sft" if "sft" in variants else variants[0]


def paired_html(rows: list[dict]) -> str:
    """The paired comparisons as a report page (differences in accuracy points)."""
    from lemma.report.tables import html_table, page

    shown = [
        {
            **r,
            "difference": 100 * r["difference"],
            "ci": f"{100 * r['ci_low']:+.1f} to {100 * r['ci_high']:+.1f}",
            "comparison": f"{r['variant']} − {r['baseline']}",
            "mcnemar_p": None if r["mcnemar_p"] is None else f"{r['mcnemar_p']:.3g}",
        }
        for r in rows
    ]
    cols = [
        ("benchmark", "benchmark"),
        ("comparison", "comparison"),
        ("seeds", "seeds"),
        ("items", "items"),
        ("difference", "difference (points)"),
        ("ci", "95% paired-bootstrap interval"),
        ("only_variant", "right only in variant"),
        ("only_baseline", "right only in baseline"),
        ("mcnemar_p", "McNemar p"),
    ]
    note = (
        '<p class="note">Each variant against the baseline over the same test items. The interval resamples the '
        "items (10,000 times); with several seeds an item's score is its mean over the seeds. McNemar's exact "
        "test (discordant items only) is given when each side is a single run.</p>"
    )
    return page(
        "Paired comparisons", note + html_table(shown, cols, {"benchmark": "text", "comparison": "text", "ci": "text"})
    )
