"""`lemma estimate`: what the teacher stages cost, before a run and at any point during one.

For every teacher job the workflow would run (locate_errors, classify_errors, inject_errors per
type, locate_and_truncate per cut and type, correct per cut, strategy and bucket,
smooth_and_filter likewise) it counts calls, prompt and completion tokens and dollars, split into
*done* (answers in the request cache) and *to come*:

* where a job's inputs exist (results/graded, results/mistakes, results/truncated, ...), its real
  requests are rendered by the real LLM teacher (lemma.teacher.llm.LLMTeacher over an engine that
  only records, so the estimate follows the teacher's code as it is) and looked up in the cache
  by their cache keys: *done* is then exact to the call and its tokens and dollars are the
  ledger's; a request that an earlier job already asked (both cuts locate the same injected
  mistakes) is counted once, at the first job;
* where they do not exist yet, the number of calls comes from upstream counts times rates
  measured by the run so far (share of wrong samples, of located samples, of kept injections, ...)
  or, before any measurement, from stated defaults (`teacher.estimate`); prompt tokens are
  counted on prompts rendered for real problems with the reference solution standing in for the
  text the stage will see; each such row says so in its basis;
* prompt tokens are counted with lemma.text.tokens (tiktoken for OpenAI models, the model's own
  tokenizer for a local one; the method is printed); completion tokens are the cache's measured
  mean for the stage once it has answers, else `teacher.estimate.completion_tokens`;
* dollars from `teacher.prices` (half price in batch mode); *to come* assumes no prompt-cache hits.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import polars as pl

from lemma.cost.rows import Row, estimate_settings
from lemma.cost.stages import estimate_stages
from lemma.engines.base import Completion, Request
from lemma.engines.cache import RequestCache, cache_key
from lemma.text.vocabulary import CUTS, STRATEGIES, STUDENT_BUCKET, cut_for


class _Recorder:
    """An engine that answers nothing and remembers what it was asked."""

    name = "recorder"
    caches_requests = True  # LLMTeacher must not wrap it

    def __init__(self):
        self.asked: list[tuple[str, Request]] = []

    def generate(self, requests, progress=None):
        self.asked += [(progress or "", r) for r in requests]
        return [[Completion(text=None, finish_reason="error", error="estimate")] * r.params.n for r in requests]

    def close(self):
        pass


class Estimator:
    def __init__(
        self,
        config: dict,
        taxonomy,
        root: str | Path = ".",
        cache_path: str | Path | None = None,
        full_count: bool = False,
        standin_problems: int | dict[str, int] | None = None,
    ):
        from lemma.engines.usage import Prices
        from lemma.pipeline.runner import TEACHER_CACHE
        from lemma.teacher.factory import _params
        from lemma.teacher.prompts import PromptSet
        from lemma.text.tokens import token_counter

        self.cfg, self.root = config, Path(root)
        self.t = config["teacher"]
        if self.t.get("kind") != "llm":
            raise ValueError(
                "lemma estimate: teacher.kind is oracle (the built-in rule-based teacher costs nothing); "
                "the estimate is for an LLM teacher (config/examples/)"
            )
        self.taxonomy = {t.name: t for t in taxonomy}
        self.settings = estimate_settings(self.t.get("estimate"))
        self.engine_kind = self.t.get("engine", "openai")
        # a local engine keys its answers by the model directory as lemma.engines.hf/vllm hold it
        self.model = self.t["model"] if self.engine_kind == "openai" else str(Path(self.t["model"]))
        self.prices = Prices.from_config(self.t.get("prices") or None)
        self.batch = self.t.get("mode", "live") == "batch"
        self.params = _params(self.t.get("params") or {}, config.get("seed", 0))
        prompts_dir = self.t.get("prompts_dir")  # relative to the workflow directory; None: the packaged prompts
        self.prompts = PromptSet.load(None if prompts_dir is None else self.root / prompts_dir)
        self.counter = token_counter(self.model, self.engine_kind, self.t.get("tokenizer"))
        path = Path(cache_path) if cache_path else self.root / TEACHER_CACHE
        self.cache = RequestCache(path) if path.exists() else None
        self.full_count = full_count
        # --problems: counts instead of dataset files (built-in world problems stand in for the text)
        self.standin_problems = standin_problems
        self.seen: set[str] = set()
        self.rng = random.Random(0)
        self._mean_completion = self._measured_completion()
        self.rows: list[Row] = []

    # -- inputs -----------------------------------------------------------------------------------
    def _path(self, rel: str) -> Path:
        return self.root / rel

    def _exists(self, *rels: str) -> bool:
        return all(self._path(r).is_file() for r in rels)

    def problems(self) -> pl.DataFrame:
        from lemma.pipeline.problems import load_problems
        from lemma.pipeline.runner import read_all
        from lemma.tables.records import PROBLEMS

        if not hasattr(self, "_problems"):
            names = list(self.cfg["datasets"])
            files = [self._path(f"results/problems/{d}.parquet") for d in names]
            if self.standin_problems is not None:
                rows = []
                for d, n in self._standin_counts(names).items():
                    world = {"seed": 7, "n_train": n, "n_test": 1, "n_test_ood": 0}
                    rows += load_problems(d, {"source": "builtin", "split": "train", "role": "train"}, world)
                self._problems = _as_problems(rows, PROBLEMS)
            elif all(f.is_file() for f in files):
                self._problems = read_all([str(f) for f in files], PROBLEMS)
            else:  # before load_problems ran: read the dataset files the same way
                rows = []
                for d in names:
                    src = dict(self.cfg["datasets"][d], role="train")
                    rows += load_problems(d, src, self.cfg.get("world"))
                self._problems = _as_problems(rows, PROBLEMS)
        return self._problems

    def _standin_counts(self, names: list[str]) -> dict[str, int]:
        """Problems per dataset for --problems: as given per name, or N shared evenly."""
        if isinstance(self.standin_problems, dict):
            return {d: self.standin_problems[d] for d in names}
        share, extra = divmod(int(self.standin_problems), len(names))
        return {d: share + (1 if i < extra else 0) for i, d in enumerate(names)}

    def graded(self) -> pl.DataFrame | None:
        from lemma.pipeline.runner import read_all
        from lemma.tables.records import GRADED

        files = [f"results/graded/{d}.parquet" for d in self.cfg["datasets"]]
        return read_all([str(self._path(f)) for f in files], GRADED) if self._exists(*files) else None

    def table(self, rel: str, schema) -> pl.DataFrame | None:
        from lemma.tables.io import read_table

        return read_table(self._path(rel), schema) if self._exists(rel) else None

    def stats(self, rel: str) -> dict | None:
        p = self._path(rel)
        return json.loads(p.read_text()) if p.is_file() else None

    def sampled_problems(self) -> int:
        """Problems the student samples: each dataset's first `sampling.max_problems`."""
        cap = self.cfg["sampling"].get("max_problems")
        per = self.problems().group_by("dataset").len()
        return int(sum(min(n, cap) if cap else n for n in per["len"].to_list()))

    # -- the teacher's requests -------------------------------------------------------------------
    def _teacher(self):
        from lemma.teacher.llm import LLMTeacher

        rec = _Recorder()
        return LLMTeacher(rec, self.prompts, self.params, None), rec

    def _keys(self, req: Request) -> list[str]:
        return [cache_key(self.engine_kind, self.model, req, s) for s in range(req.params.n)]

    def _measured_completion(self) -> dict[str, tuple[float, int]]:
        """stage -> (mean completion tokens, answers) over the cache's answers of that stage."""
        if self.cache is None:
            return {}
        with self.cache._lock:
            rows = self.cache._db.execute(
                "SELECT stage, AVG(completion_tokens), COUNT(*) FROM responses WHERE stage != '' AND model = ?"
                " GROUP BY stage",
                (self.model,),
            ).fetchall()
        return {s: (float(m), int(n)) for s, m, n in rows}

    def completion_per_call(self, stage: str) -> tuple[float, str]:
        got = self._mean_completion.get(stage)
        if got:
            return got[0], f"completion tokens: mean of {got[1]} cached {stage} answers"
        return float(self.settings["completion_tokens"][stage]), (
            f"completion tokens: {self.settings['completion_tokens'][stage]} per call "
            f"(teacher.estimate.completion_tokens.{stage})"
        )

    def _count_prompt(self, req: Request) -> int:
        if req.messages is not None:
            return self.counter.count(messages=req.messages)
        return self.counter.count(prompt=req.prompt)

    def _price(self, prompt: float, completion: float) -> float:
        if self.prices is None:
            return 0.0
        return self.prices.cost(prompt, completion, 0, batch=self.batch)

    def exact(self, row: Row, asked: list[tuple[str, Request]]) -> Row:
        """Fill `row` from the real requests of a job."""
        keys: list[str] = []
        reqs: list[Request] = []
        for _, req in asked:
            for key in self._keys(req):
                if key in self.seen:
                    row.shared += 1
                    continue
                self.seen.add(key)
                keys.append(key)
                reqs.append(req)
        paid = self._paid(keys)
        todo = [r for k, r in zip(keys, reqs) if k not in paid]
        for n, cost, prompt, completion in paid.values():
            row.calls_done += n
            row.cost_done += cost
            row.prompt_done += prompt
            row.completion_done += completion
        row.calls_todo = len(todo)
        sample = todo
        note = ""
        if not self.full_count and len(todo) > self.settings["prompt_sample"] * 10:
            sample = self.rng.sample(todo, self.settings["prompt_sample"] * 10)
            note = f" (mean of {len(sample)} sampled requests)"
        mean_prompt = sum(self._count_prompt(r) for r in sample) / len(sample) if sample else 0.0
        per_call, cnote = self.completion_per_call(row.stage)
        row.prompt_todo = mean_prompt * len(todo)
        row.completion_todo = per_call * len(todo)
        row.cost_todo = self._price(row.prompt_todo, row.completion_todo)
        row.token_notes = [f"prompt tokens counted on the rendered requests{note}"] + ([cnote] if todo else [])
        row.basis = (
            f"exact: {len(keys) + row.shared} rendered requests"
            + (f", {row.shared} already asked by an earlier job" if row.shared else "")
            + "; "
            + "; ".join(row.token_notes)
        )
        row.exact = True
        return row

    def _paid(self, keys: list[str]) -> dict[str, tuple[int, float, int, int]]:
        """key -> (paid calls, dollars, prompt tokens, completion tokens) from the ledger."""
        if self.cache is None or not keys:
            return {}
        out: dict[str, list] = {}
        stored = self.cache.peek(keys)
        with self.cache._lock:
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                for key, n, cost, p, c in self.cache._db.execute(
                    "SELECT key, COUNT(*), SUM(cost_usd), SUM(prompt_tokens), SUM(completion_tokens) FROM live_calls"
                    f" WHERE key IN ({','.join('?' * len(chunk))}) GROUP BY key",
                    chunk,
                ):
                    out[key] = [n, cost or 0.0, p or 0, c or 0]
        for key, comp in stored.items():
            if key not in out:  # an answer stored before the ledger existed: priced now
                cost = (
                    self.prices.cost(comp.prompt_tokens, comp.completion_tokens, comp.cached_tokens)
                    if self.prices
                    else 0
                )
                out[key] = [1, cost, comp.prompt_tokens, comp.completion_tokens]
        return {k: tuple(v) for k, v in out.items()}

    def estimated(self, row: Row, calls: float, standins: list[tuple[str, Request]], assumption: str) -> Row:
        """Fill `row` for a job whose inputs do not exist yet."""
        prompts = [self._count_prompt(r) for _, r in standins]
        mean_prompt = sum(prompts) / len(prompts) if prompts else 0.0
        per_call, cnote = self.completion_per_call(row.stage)
        row.calls_todo = calls
        row.prompt_todo = calls * mean_prompt
        row.completion_todo = calls * per_call
        row.cost_todo = self._price(row.prompt_todo, row.completion_todo)
        row.token_notes = [
            f"prompt tokens: mean of {len(prompts)} prompts rendered with the reference solution "
            f"standing in for the text this stage will see",
            cnote,
        ]
        row.basis = f"estimate: {assumption}; " + "; ".join(row.token_notes)
        row.exact = False
        return row

    def _standin_views(self):
        from lemma.pipeline.common import problem_views

        views = list(problem_views(self.problems()).values())
        k = min(len(views), int(self.settings["prompt_sample"]))
        return self.rng.sample(views, k) if k < len(views) else views

    # -- the DAG ----------------------------------------------------------------------------------
    def used(self) -> tuple[list[tuple[str, str, str]], list[str]]:
        """(cut, strategy, bucket) of every trajectory table a variant trains on (rules/common.smk),
        and the error types injected for them."""
        aug = self.cfg["augment"]["types"]
        strategies = self.cfg.get("correct", {}).get("strategies", list(STRATEGIES))
        used = set()
        for v in self.cfg["variants"].values():
            if not v.get("trajectories"):
                continue
            sources = v.get("sources", ["student", "augmented"])
            buckets = ([STUDENT_BUCKET] if "student" in sources else []) + (aug if "augmented" in sources else [])
            cut = cut_for(v.get("truncate", True))
            for s in v.get("strategies", list(STRATEGIES)):
                if s in strategies:
                    used |= {(cut, s, b) for b in buckets}
        buckets = [STUDENT_BUCKET] + aug
        triples = sorted(used, key=lambda t: (CUTS.index(t[0]), STRATEGIES.index(t[1]), buckets.index(t[2])))
        types = [t for t in aug if any(b == t for _, _, b in triples)]
        return triples, types

    def run(self) -> list[Row]:
        """Every teacher job's row (lemma.cost.stages)."""
        return estimate_stages(self)

    def close(self):
        if self.cache is not None:
            self.cache.close()


def _as_problems(rows: list[dict], schema) -> pl.DataFrame:
    """Loaded rows as a PROBLEMS table (columns a loader does not fill are null)."""
    df = pl.DataFrame(rows)
    df = df.select([c for c in schema if c in df.columns])
    for c, dt in schema.items():
        if c not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=dt).alias(c))
    return df.select(list(schema)).cast(schema)
