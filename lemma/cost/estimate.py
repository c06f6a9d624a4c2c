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
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from lemma.engines.base import Completion, Request
from lemma.engines.cache import RequestCache, cache_key
from lemma.text.vocabulary import CUTS, FIRST_ERROR, FRESH_RESTART, STRATEGIES, STUDENT_BUCKET, TEACHER_STAGES, cut_for

STAGES = TEACHER_STAGES
ESTIMATE_DEFAULTS = {
    # the share of the student's samples that are wrong, until results/graded says
    "student_error_rate": 0.5,
    # shares that survive each teacher stage, until the run has measured them
    "locate_keep": 0.9,  # wrong samples whose first wrong step the judge names
    "inject_keep": 0.8,  # injections kept (parsed, the answer really changed, not a duplicate)
    "truncate_keep": 0.9,  # injected mistakes located and cut
    "correct_keep": 0.8,  # corrections that parse
    # completion tokens per call, until the cache has answers of the stage (the paper's
    # trajectories average 623 tokens)
    "completion_tokens": {
        "locate": 250,
        "classify": 200,
        "inject": 500,
        "fix_continue": 450,
        "fresh_restart": 550,
        "smooth": 623,
    },
    # prompts rendered per job to measure the prompt tokens (sampled when a job has more)
    "prompt_sample": 300,
}


def estimate_settings(cfg: dict | None) -> dict:
    cfg = dict(cfg or {})
    unknown = set(cfg) - set(ESTIMATE_DEFAULTS)
    if unknown:
        raise ValueError(
            f"teacher.estimate: unknown key(s) {sorted(unknown)}; expected some of {sorted(ESTIMATE_DEFAULTS)}"
        )
    out = {**ESTIMATE_DEFAULTS, **cfg}
    out["completion_tokens"] = {**ESTIMATE_DEFAULTS["completion_tokens"], **(cfg.get("completion_tokens") or {})}
    for k in ("student_error_rate", "locate_keep", "inject_keep", "truncate_keep", "correct_keep"):
        if not 0 <= float(out[k]) <= 1:
            raise ValueError(f"teacher.estimate.{k}: expected a share between 0 and 1, got {out[k]!r}")
    bad = set(out["completion_tokens"]) - set(STAGES)
    if bad:
        raise ValueError(f"teacher.estimate.completion_tokens: unknown stage(s) {sorted(bad)}; expected {STAGES}")
    return out


@dataclass
class Row:
    job: str  # e.g. "correct/first_error/fix_continue/calculation_error"
    stage: str  # locate | classify | inject | fix_continue | fresh_restart | smooth
    cut: str = ""  # first_error | whole | "" (before truncation)
    group: str = ""  # what the default table groups by
    calls_done: int = 0
    calls_todo: float = 0
    prompt_done: int = 0
    prompt_todo: float = 0
    completion_done: int = 0
    completion_todo: float = 0
    cost_done: float = 0.0
    cost_todo: float = 0.0
    basis: str = ""  # "exact" or the estimate's assumption
    exact: bool = True
    shared: int = 0  # requests already counted at an earlier job
    rates: list = field(default_factory=list)  # the rates an estimate used, as "name value (source)"
    token_notes: list = field(default_factory=list)  # how prompt and completion tokens were had

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


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
        from lemma.pipeline.augment import inject_errors, injections_for_type
        from lemma.pipeline.correct import correct, smooth_and_filter, truncate_mistakes
        from lemma.pipeline.judges import classify_student_errors, locate_student_errors
        from lemma.tables.records import CORRECTIONS, MISTAKES, STEP_LABELS, TAXONOMY_STATS, TRUNCATED
        from lemma.teacher.base import ClassifyRequest, CorrectRequest, InjectRequest, LocateRequest, SmoothRequest
        from lemma.text.reflection import join_trajectory
        from lemma.text.steps import split_steps, truncate_after

        s = self.settings
        triples, types = self.used()
        if not triples:
            return []
        problems = self.problems()
        graded = self.graded()
        max_items = self.cfg.get("classify", {}).get("max_items")
        aug = self.cfg["augment"]
        n_samples = self.cfg["sampling"]["n"]
        phrase = self.cfg["reflection_phrases"][0]
        views = self._standin_views()

        def add(row: Row) -> None:
            row.rates = list(dict.fromkeys(used_rates))
            used_rates.clear()
            self.rows.append(row)

        def record(fn):
            teacher, rec = self._teacher()
            fn(teacher)
            return rec.asked

        # measured rates, where the run has them
        rates: dict[str, tuple[float, str]] = {}
        if graded is not None:
            wrong = graded.filter(~pl.col("correct"))
            rates["error"] = (
                wrong.height / max(graded.height, 1),
                f"measured in results/graded ({graded.height} samples)",
            )
        else:
            rates["error"] = (float(s["student_error_rate"]), "teacher.estimate.student_error_rate")
        for key, rel, default in (("locate", "results/taxonomy/steps.stats.json", "locate_keep"),):
            st = self.stats(rel)
            rates[key] = (
                (st["out"] / st["in"], f"measured: {st['out']}/{st['in']} in {rel}")
                if st and st["in"]
                else (float(s[default]), f"teacher.estimate.{default}")
            )

        def keep(kind: str, rels: list[str], default: str) -> tuple[float, str]:
            got = [self.stats(r) for r in rels]
            got = [g for g in got if g and g["in"]]
            if got:
                n_in, n_out = sum(g["in"] for g in got), sum(g["out"] for g in got)
                return n_out / n_in, f"measured: {n_out}/{n_in} kept by {kind} so far"
            return float(s[default]), f"teacher.estimate.{default}"

        rates["inject"] = keep("inject_errors", [f"results/mistakes/{t}.stats.json" for t in types], "inject_keep")
        rates["truncate"] = keep(
            "locate_and_truncate",
            [f"results/truncated/{c}/{t}.stats.json" for c in CUTS for t in types],
            "truncate_keep",
        )
        rates["correct"] = keep(
            "correct", [f"results/corrections/{c}/{st}/{b}.stats.json" for c, st, b in triples], "correct_keep"
        )

        used_rates: list[str] = []

        def rate_text(name: str) -> str:
            v, why = rates[name]
            used_rates.append(f"{name} {v:.2f} ({why})")
            return f"{v:.2f} ({why})"

        # 1. locate_errors: the student's distinct wrong samples
        row = Row("locate_errors", "locate", group="locate: the student's wrong samples")
        if graded is not None:
            self.exact(row, record(lambda t: locate_student_errors(problems, graded, t, max_items)))
        else:
            n = self.sampled_problems() * n_samples * rates["error"][0]
            if max_items:
                n = min(n, max_items)
            self.estimated(
                row,
                n,
                record(lambda t: t.locate_errors([LocateRequest(v, v.solution) for v in views])),
                f"{self.sampled_problems()} problems x {n_samples} samples x error rate {rate_text('error')}"
                + (f", at most classify.max_items={max_items}" if max_items else "")
                + "; every wrong sample distinct",
            )
        add(row)
        located = row.calls_done + row.calls_todo + row.shared
        steps = self.table("results/taxonomy/steps.parquet", STEP_LABELS)
        n_located = (
            steps.filter(pl.col("dropped").is_null()).height if steps is not None else located * rates["locate"][0]
        )

        # 2. classify_errors
        row = Row("classify_errors", "classify", group="classify: the student's located samples")
        if steps is not None:
            taxonomy = list(self.taxonomy.values())
            self.exact(row, record(lambda t: classify_student_errors(problems, steps, t, taxonomy)))
        else:
            taxonomy = list(self.taxonomy.values())
            self.estimated(
                row,
                n_located,
                record(lambda t: t.classify_errors([ClassifyRequest(v, v.solution, 1) for v in views], taxonomy)),
                f"{located:.0f} located x keep rate {rate_text('locate')}",
            )
        add(row)

        # 3. inject_errors per type
        inject_calls: dict[str, float] = {}
        stats_table = self.table("results/taxonomy/stats.parquet", TAXONOMY_STATS)
        for name in types:
            spec = self.taxonomy[name]
            per = injections_for_type(aug["per_problem"], aug["weighting"], name, stats_table, aug["types"])
            row = Row(f"inject_errors/{name}", "inject", group=f"inject: {name}")
            if graded is not None:
                self.exact(row, record(lambda t: inject_errors(problems, graded, t, spec, per, aug["max_problems"])))
                inject_calls[name] = row.calls_done + row.calls_todo + row.shared
            else:
                e = rates["error"][0]
                failed = self.sampled_problems() * (1 - (1 - e) ** n_samples)
                if aug["max_problems"]:
                    failed = min(failed, aug["max_problems"])
                inject_calls[name] = failed * per
                self.estimated(
                    row,
                    failed * per,
                    record(lambda t: t.inject_errors([InjectRequest(v, spec, 0) for v in views])),
                    f"{failed:.0f} failed problems (1-(1-{e:.2f})^{n_samples} of {self.sampled_problems()}, samples "
                    f"independent) x {per} per problem",
                )
            add(row)

        # 4. locate_and_truncate per cut and type (the student's own are cut without the teacher)
        truncated_rows: dict[tuple[str, str], float] = {}
        cuts = [c for c in CUTS if any(t[0] == c for t in triples)]
        for cut in cuts:
            truncated_rows[(cut, STUDENT_BUCKET)] = n_located
            tr = self.table(f"results/truncated/{cut}/student.parquet", TRUNCATED)
            if tr is not None:
                truncated_rows[(cut, STUDENT_BUCKET)] = tr.height
            for name in types:
                if not any(t == (cut, st, name) for st in STRATEGIES for t in triples):
                    continue
                row = Row(
                    f"locate_and_truncate/{cut}/{name}", "locate", cut, group=f"locate: injected mistakes ({cut})"
                )
                mistakes = self.table(f"results/mistakes/{name}.parquet", MISTAKES)
                if mistakes is not None:
                    self.exact(row, record(lambda t: truncate_mistakes(problems, mistakes, t, cut)))
                    n_mistakes = mistakes.height
                else:
                    n_mistakes = inject_calls[name] * rates["inject"][0]
                    first = cut != cuts[0]
                    if first:  # the same requests as the first cut: answered from the cache
                        row.calls_todo, row.shared = 0, round(n_mistakes)
                        row.basis, row.exact = f"estimate: the same requests as cut {cuts[0]} (from the cache)", False
                    else:
                        self.estimated(
                            row,
                            n_mistakes,
                            record(lambda t: t.locate_errors([LocateRequest(v, v.solution) for v in views])),
                            f"{inject_calls[name]:.0f} injections x keep rate {rate_text('inject')}",
                        )
                add(row)
                done = self.table(f"results/truncated/{cut}/{name}.parquet", TRUNCATED)
                truncated_rows[(cut, name)] = done.height if done is not None else n_mistakes * rates["truncate"][0]

        # 5./6. correct and smooth_and_filter per cut, strategy and bucket
        for cut, strategy, bucket in triples:
            row = Row(f"correct/{cut}/{strategy}/{bucket}", strategy, cut, group=f"{strategy} ({cut})")
            tr = self.table(f"results/truncated/{cut}/{bucket}.parquet", TRUNCATED)
            phrases = self.cfg["reflection_phrases"]
            if tr is not None and graded is not None:
                self.exact(row, record(lambda t: correct(problems, tr, graded, t, strategy, phrases)))
                n_corr_in = tr.height
            else:
                n_corr_in = truncated_rows.get((cut, bucket), 0)
                src = (
                    "located student samples"
                    if bucket == STUDENT_BUCKET
                    else f"{bucket} mistakes x keep rate {rate_text('truncate')}"
                )

                def standins(t, cut=cut, strategy=strategy, bucket=bucket):
                    reqs = []
                    for v in views:
                        steps_ = split_steps(v.solution, v.style)
                        if not steps_:
                            continue
                        k = max(1, (len(steps_) + 1) // 2)
                        prefix = truncate_after(v.solution, k, v.style) if cut == FIRST_ERROR else v.solution
                        reqs.append(
                            CorrectRequest(
                                v,
                                prefix,
                                k,
                                None if bucket == STUDENT_BUCKET else bucket,
                                phrase,
                                v.solution if strategy == FRESH_RESTART else None,
                            )
                        )
                    getattr(t, strategy)(reqs)

                self.estimated(row, n_corr_in, record(standins), f"{n_corr_in:.0f} truncated rows ({src})")
            add(row)

            row = Row(f"smooth_and_filter/{cut}/{strategy}/{bucket}", "smooth", cut, group=f"smooth ({cut})")
            corr = self.table(f"results/corrections/{cut}/{strategy}/{bucket}.parquet", CORRECTIONS)
            if corr is not None:
                self.exact(row, record(lambda t: smooth_and_filter(problems, corr, t)))
            else:
                n = n_corr_in * rates["correct"][0]

                def smooth_standins(t, cut=cut):
                    reqs = []
                    for v in views:
                        steps_ = split_steps(v.solution, v.style)
                        k = max(1, (len(steps_) + 1) // 2) if steps_ else 0
                        prefix = truncate_after(v.solution, k, v.style) if (cut == FIRST_ERROR and k) else v.solution
                        reqs.append(SmoothRequest(v, join_trajectory(prefix, phrase, v.solution)))
                    t.smooth(reqs)

                self.estimated(
                    row,
                    n,
                    record(smooth_standins),
                    f"{n_corr_in:.0f} corrections asked x keep rate {rate_text('correct')}",
                )
            add(row)
        return self.rows

    def close(self):
        if self.cache is not None:
            self.cache.close()


# -- presentation -------------------------------------------------------------------------------------


# The Row fields that add up over jobs, stages and cuts (grouped rows and the total).
SUMMED_FIELDS = (
    "calls_done",
    "calls_todo",
    "prompt_done",
    "prompt_todo",
    "completion_done",
    "completion_todo",
    "cost_done",
    "cost_todo",
    "shared",
)


def _add_counts(into: Row, row: Row) -> None:
    for f in SUMMED_FIELDS:
        setattr(into, f, getattr(into, f) + getattr(row, f))


def grouped(rows: list[Row]) -> list[Row]:
    """Rows summed by `group` (stage, cut and, for inject, the type), in first-seen order."""
    out: dict[str, Row] = {}
    for r in rows:
        g = out.setdefault(r.group, Row(r.group, r.stage, r.cut, r.group))
        _add_counts(g, r)
        g.exact = g.exact and r.exact
    members: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        members[r.group].append(r)
    for name, g in out.items():
        rs = members[name]
        if len(rs) == 1:
            g.basis = rs[0].basis
            continue
        n_exact = sum(r.exact for r in rs)
        kinds = (
            "exact"
            if n_exact == len(rs)
            else "estimate"
            if not n_exact
            else f"{n_exact} exact, {len(rs) - n_exact} estimated"
        )
        rates = list(dict.fromkeys(x for r in rs for x in r.rates))
        notes = list(dict.fromkeys(x for r in rs for x in r.token_notes))
        g.basis = (
            f"{kinds}: {len(rs)} jobs (`lemma estimate --by-job` shows each)"
            + (f"; rates: {', '.join(rates)}" if rates else "")
            + (f"; {'; '.join(notes)}" if notes else "")
        )
        if not rates and not notes:
            g.basis += "; " + rs[0].basis.split(": ", 1)[-1]
    # rows before truncation ("" cut) first; the student's own located rows first in their cut;
    # then by stage, the teacher's injections before the judge's locating of them
    order = {"": 0, **{c: i + 1 for i, c in enumerate(CUTS)}}
    rank = {
        "classify": 1,
        "inject": 2,
        "locate": 3,
        **{s: 4 + i for i, s in enumerate(STRATEGIES)},
        "smooth": 4 + len(STRATEGIES),
    }
    return sorted(
        out.values(), key=lambda g: (order[g.cut], 0 if g.group.startswith("locate: the student") else rank[g.stage])
    )


def totals(rows: list[Row]) -> Row:
    t = Row("total", "", group="total")
    for r in rows:
        _add_counts(t, r)
    t.exact = all(r.exact for r in rows)
    return t


def _n(x: float) -> str:
    return f"{x:,.0f}"


def _usd(x: float) -> str:
    return f"{x:,.2f}"


def format_table(rows: list[Row], header: str = "") -> str:
    shown = rows + [totals(rows)]
    cols = [
        "stage",
        "calls done",
        "to come",
        "prompt tok done",
        "to come",
        "compl. tok done",
        "to come",
        "USD done",
        "to come",
        "",
    ]
    data = []
    notes = []
    for r in shown:
        mark = ""
        if r.group != "total":
            notes.append(r.basis)
            mark = f"[{len(notes)}]" + ("" if r.exact else " est.")
        data.append(
            [
                r.group,
                _n(r.calls_done),
                _n(r.calls_todo),
                _n(r.prompt_done),
                _n(r.prompt_todo),
                _n(r.completion_done),
                _n(r.completion_todo),
                _usd(r.cost_done),
                _usd(r.cost_todo),
                mark,
            ]
        )
    widths = [max(len(str(row[i])) for row in data + [cols]) for i in range(len(cols))]
    lines = [header] if header else []

    def fmt(row):
        return "  ".join(
            str(c).ljust(widths[0]) if i == 0 else str(c).rjust(widths[i])  # noqa: E731
            for i, c in enumerate(row)
        ).rstrip()

    lines.append(fmt(cols))
    lines.append("-" * len(fmt(cols)))
    for i, row in enumerate(data):
        if i == len(data) - 1:
            lines.append("-" * len(fmt(cols)))
        lines.append(fmt(row))
    lines.append("")
    lines += [f"[{i}] {n}" for i, n in enumerate(notes, 1)]
    return "\n".join(lines)


def html_table(rows: list[Row], header: str) -> str:
    import html

    shown = rows + [totals(rows)]
    head = (
        "<tr><th>stage</th><th>calls done</th><th>calls to come</th><th>prompt tokens done</th><th>to come</th>"
        "<th>completion tokens done</th><th>to come</th><th>USD done</th><th>USD to come</th><th>basis</th></tr>"
    )
    body = "".join(
        f"<tr><td>{html.escape(r.group)}</td><td>{_n(r.calls_done)}</td><td>{_n(r.calls_todo)}</td>"
        f"<td>{_n(r.prompt_done)}</td><td>{_n(r.prompt_todo)}</td><td>{_n(r.completion_done)}</td>"
        f"<td>{_n(r.completion_todo)}</td><td>{_usd(r.cost_done)}</td><td>{_usd(r.cost_todo)}</td>"
        f"<td>{html.escape(r.basis)}</td></tr>"
        for r in shown
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>table{{border-collapse:collapse;font:13px "
        f"sans-serif}}td,th{{border:1px solid #ccc;padding:3px 6px;text-align:right}}td:first-child,"
        f"td:last-child{{text-align:left}}</style></head><body><p>{html.escape(header)}</p><table>{head}{body}"
        f"</table></body></html>"
    )


def _as_problems(rows: list[dict], schema) -> pl.DataFrame:
    """Loaded rows as a PROBLEMS table (columns a loader does not fill are null)."""
    df = pl.DataFrame(rows)
    df = df.select([c for c in schema if c in df.columns])
    for c, dt in schema.items():
        if c not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=dt).alias(c))
    return df.select(list(schema)).cast(schema)


def describe(est: Estimator) -> str:
    p = est.prices
    price = (
        (
            f"prices: ${p.input_per_mtok:g} / ${p.output_per_mtok:g} per million input / output tokens"
            + (f", batch mode at {p.batch_discount:g} of that" if est.batch else "")
        )
        if p
        else "no teacher.prices: USD shown as 0"
    )
    budget = est.t.get("budget_usd")
    spent = est.cache.spent_usd() if est.cache is not None else 0.0
    lines = [
        f"teacher {est.model} ({est.engine_kind}, mode {est.t.get('mode', 'live')}); {price}",
        f"prompt tokens counted with {est.counter.method}"
        + (
            f" on built-in world problems standing in for {est.problems().height:,} problems (--problems; "
            "real problems are longer: a lower bound)"
            if est.standin_problems is not None
            else ""
        ),
        f"request cache: {est.cache.path if est.cache else 'none yet'}; ledger total ${spent:,.2f}"
        + (f" of teacher.budget_usd ${budget:,.2f}" if budget else ""),
    ]
    return "\n".join(lines)
