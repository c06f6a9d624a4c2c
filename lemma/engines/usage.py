"""Token and cost accounting for teacher calls.

Every `generate` batch of an API engine becomes one `BatchUsage`: how many samples were asked,
how many came from the request cache, how many were live calls, how many failed for good, how
many retries were spent, the tokens of the live calls and their estimated cost. `UsageLog` writes
each batch as a log line (logger "lemma.engines.usage", which a rule's `log:` file captures) and appends
it as a row to a CSV usage table, one file per rule (for example results/usage/inject_errors/
calculation_error.csv). Appending means a killed and rerun job keeps the rows of both runs, so
the table's total is what was actually paid. Cache hits cost nothing and count no tokens.

Columns (USAGE_COLUMNS): time (UTC ISO-8601), rule, stage, engine, model, requests, cache_hits,
live_calls (every paid answer, batch ones included), failed, retries, prompt_tokens,
completion_tokens, est_cost_usd (empty when no prices are configured), cached_tokens (prompt tokens
the provider served from its prompt cache, priced at `cached_input_per_mtok`), batch_calls (paid
answers that came through the Batch API, at `batch_discount` of the price). Read it with
`polars.read_csv(path)`. The cost of each answer is computed when it arrives (`Prices.cost`) and
the same number goes into the request cache's ledger, so the tables and the ledger agree.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

log = logging.getLogger("lemma.engines.usage")

USAGE_COLUMNS = (
    "time",
    "rule",
    "stage",
    "engine",
    "model",
    "requests",
    "cache_hits",
    "live_calls",
    "failed",
    "retries",
    "prompt_tokens",
    "completion_tokens",
    "est_cost_usd",
    "cached_tokens",
    "batch_calls",
)


PRICE_KEYS = ("input_per_mtok", "output_per_mtok", "cached_input_per_mtok", "batch_discount")


@dataclass(frozen=True)
class Prices:
    """US dollars per million tokens; an estimate from the config, not a bill.

    `cached_input_per_mtok`: the price of prompt tokens the provider reports as served from its
    prompt cache (`usage.prompt_tokens_details.cached_tokens`); None: the full input price.
    `batch_discount`: the share of the price paid for answers that came through a Batch API
    (OpenAI: 0.5)."""

    input_per_mtok: float = 0.0
    output_per_mtok: float = 0.0
    cached_input_per_mtok: float | None = None
    batch_discount: float = 0.5

    @classmethod
    def from_config(cls, cfg: dict | None) -> Prices | None:
        if not cfg:
            return None
        unknown = set(cfg) - set(PRICE_KEYS)
        if unknown:
            raise ValueError(f"teacher.prices: unknown keys {sorted(unknown)}; expected some of {list(PRICE_KEYS)}")
        cached = cfg.get("cached_input_per_mtok")
        p = cls(
            float(cfg.get("input_per_mtok", 0.0)),
            float(cfg.get("output_per_mtok", 0.0)),
            None if cached is None else float(cached),
            float(cfg.get("batch_discount", 0.5)),
        )
        if (
            min(p.input_per_mtok, p.output_per_mtok, p.cached_input_per_mtok or 0.0) < 0
            or not 0 < p.batch_discount <= 1
        ):
            raise ValueError(f"teacher.prices: prices must be >= 0 and 0 < batch_discount <= 1, got {dict(cfg)}")
        return p

    def cost(self, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0, batch: bool = False) -> float:
        """`prompt_tokens` includes `cached_tokens`, as in the OpenAI usage object."""
        cached = min(max(cached_tokens, 0), prompt_tokens)
        cached_price = self.input_per_mtok if self.cached_input_per_mtok is None else self.cached_input_per_mtok
        usd = (
            (prompt_tokens - cached) * self.input_per_mtok
            + cached * cached_price
            + completion_tokens * self.output_per_mtok
        ) / 1e6
        return usd * (self.batch_discount if batch else 1.0)


@dataclass
class BatchUsage:
    stage: str = ""
    requests: int = 0  # samples asked for (a request with n=4 counts 4)
    cache_hits: int = 0
    live_calls: int = 0  # samples answered by the server in this batch
    failed: int = 0  # samples that got no answer after all retries
    retries: int = 0  # extra attempts spent on 429 / 5xx / timeouts / dropped connections
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0  # of prompt_tokens, served from the provider's prompt cache
    batch_calls: int = 0  # of live_calls, answered through the Batch API
    cost_usd: float = 0.0  # summed per answer with Prices.cost (0 without prices)
    errors: dict = field(default_factory=dict)  # final failure reason -> count


class UsageLog:
    def __init__(
        self, path: str | os.PathLike | None, *, engine: str, model: str, rule: str = "", prices: Prices | None = None
    ):
        self.path = Path(path) if path else None
        self.engine, self.model, self.rule, self.prices = engine, model, rule, prices
        self.batches: list[BatchUsage] = []

    def cost(self, b: BatchUsage) -> float | None:
        return None if self.prices is None else b.cost_usd

    def record(self, b: BatchUsage) -> None:
        self.batches.append(b)
        cost = self.cost(b)
        log.info(
            "usage rule=%s stage=%s engine=%s model=%s requests=%d cache_hits=%d live=%d failed=%d "
            "retries=%d prompt_tokens=%d cached_tokens=%d completion_tokens=%d batch_calls=%d est_cost_usd=%s%s",
            self.rule,
            b.stage,
            self.engine,
            self.model,
            b.requests,
            b.cache_hits,
            b.live_calls,
            b.failed,
            b.retries,
            b.prompt_tokens,
            b.cached_tokens,
            b.completion_tokens,
            b.batch_calls,
            "n/a" if cost is None else f"{cost:.4f}",
            f" errors={b.errors}" if b.errors else "",
        )
        if self.path is not None:
            self._append(b, cost)

    def _append(self, b: BatchUsage, cost: float | None) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists() or self.path.stat().st_size == 0
        row = {k: v for k, v in asdict(b).items() if k in USAGE_COLUMNS}
        row.update(
            time=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            rule=self.rule,
            engine=self.engine,
            model=self.model,
            est_cost_usd="" if cost is None else f"{cost:.6f}",
        )
        # One short append per batch: a killed job loses at most the batch in flight.
        with open(self.path, "a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=USAGE_COLUMNS)
            if new:
                w.writeheader()
            w.writerow(row)
