"""The estimate's walk through the teacher stages in DAG order (locate, classify, inject, locate and
truncate, correct, smooth): for each job, the calls it makes, from its real inputs where they exist
and from upstream counts times measured or stated rates where they do not."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from lemma.cost.rows import Row
from lemma.text.vocabulary import CUTS, FIRST_ERROR, FRESH_RESTART, STRATEGIES, STUDENT_BUCKET

if TYPE_CHECKING:  # only for the annotation: the estimator calls this module
    from lemma.cost.estimate import Estimator


def estimate_stages(est: Estimator) -> list[Row]:
    """Every teacher job's row, in DAG order: exact where its inputs exist, estimated otherwise."""
    from lemma.pipeline.augment import inject_errors, injections_for_type
    from lemma.pipeline.correct import correct, smooth_and_filter, truncate_mistakes
    from lemma.pipeline.judges import classify_student_errors, locate_student_errors
    from lemma.tables.records import CORRECTIONS, MISTAKES, STEP_LABELS, TAXONOMY_STATS, TRUNCATED
    from lemma.teacher.base import ClassifyRequest, CorrectRequest, InjectRequest, LocateRequest, SmoothRequest
    from lemma.text.reflection import join_trajectory
    from lemma.text.steps import split_steps, truncate_after

    s = est.settings
    triples, types = est.used()
    if not triples:
        return []
    problems = est.problems()
    graded = est.graded()
    max_items = est.cfg.get("classify", {}).get("max_items")
    aug = est.cfg["augment"]
    n_samples = est.cfg["sampling"]["n"]
    phrase = est.cfg["reflection_phrases"][0]
    views = est._standin_views()

    def add(row: Row) -> None:
        row.rates = list(dict.fromkeys(used_rates))
        used_rates.clear()
        est.rows.append(row)

    def record(fn):
        teacher, rec = est._teacher()
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
        st = est.stats(rel)
        rates[key] = (
            (st["out"] / st["in"], f"measured: {st['out']}/{st['in']} in {rel}")
            if st and st["in"]
            else (float(s[default]), f"teacher.estimate.{default}")
        )

    def keep(kind: str, rels: list[str], default: str) -> tuple[float, str]:
        got = [est.stats(r) for r in rels]
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
        est.exact(row, record(lambda t: locate_student_errors(problems, graded, t, max_items)))
    else:
        n = est.sampled_problems() * n_samples * rates["error"][0]
        if max_items:
            n = min(n, max_items)
        est.estimated(
            row,
            n,
            record(lambda t: t.locate_errors([LocateRequest(v, v.solution) for v in views])),
            f"{est.sampled_problems()} problems x {n_samples} samples x error rate {rate_text('error')}"
            + (f", at most classify.max_items={max_items}" if max_items else "")
            + "; every wrong sample distinct",
        )
    add(row)
    located = row.calls_done + row.calls_todo + row.shared
    steps = est.table("results/taxonomy/steps.parquet", STEP_LABELS)
    n_located = steps.filter(pl.col("dropped").is_null()).height if steps is not None else located * rates["locate"][0]

    # 2. classify_errors
    row = Row("classify_errors", "classify", group="classify: the student's located samples")
    if steps is not None:
        taxonomy = list(est.taxonomy.values())
        est.exact(row, record(lambda t: classify_student_errors(problems, steps, t, taxonomy)))
    else:
        taxonomy = list(est.taxonomy.values())
        est.estimated(
            row,
            n_located,
            record(lambda t: t.classify_errors([ClassifyRequest(v, v.solution, 1) for v in views], taxonomy)),
            f"{located:.0f} located x keep rate {rate_text('locate')}",
        )
    add(row)

    # 2b. the judge gate's calibration (judge_bench.gate), paid before any augmentation
    gate = (est.cfg.get("judge_bench") or {}).get("gate")
    if gate:
        spec = est.cfg["judge_bench"]["sets"][gate["set"]]
        row = Row(f"judge_bench/{gate['set']}", "locate", group="locate: the judge's calibration")
        done = est.stats(f"results/judge/{gate['set']}.summary.json")
        if done is not None:
            row.calls_done, row.prompt_done = int(done["calls"]), int(done["prompt_tokens"])
            row.completion_done, row.cost_done = int(done["completion_tokens"]), float(done["cost_usd"])
            row.basis = f"done: results/judge/{gate['set']}.summary.json"
        else:
            n = spec.get("n") or 200
            est.estimated(
                row,
                n,
                record(lambda t: t.locate_errors([LocateRequest(v, v.solution) for v in views])),
                f"{n} items of judge_bench set {gate['set']!r} (judge_bench.gate; set n smaller for a cheaper check)",
            )
        add(row)

    # 3. inject_errors per type
    inject_calls: dict[str, float] = {}
    stats_table = est.table("results/taxonomy/stats.parquet", TAXONOMY_STATS)
    for name in types:
        spec = est.taxonomy[name]
        per = injections_for_type(aug["per_problem"], aug["weighting"], name, stats_table, aug["types"])
        row = Row(f"inject_errors/{name}", "inject", group=f"inject: {name}")
        if graded is not None:
            est.exact(row, record(lambda t: inject_errors(problems, graded, t, spec, per, aug["max_problems"])))
            inject_calls[name] = row.calls_done + row.calls_todo + row.shared
        else:
            e = rates["error"][0]
            failed = est.sampled_problems() * (1 - (1 - e) ** n_samples)
            if aug["max_problems"]:
                failed = min(failed, aug["max_problems"])
            inject_calls[name] = failed * per
            est.estimated(
                row,
                failed * per,
                record(lambda t: t.inject_errors([InjectRequest(v, spec, 0) for v in views])),
                f"{failed:.0f} failed problems (1-(1-{e:.2f})^{n_samples} of {est.sampled_problems()}, samples "
                f"independent) x {per} per problem",
            )
        add(row)

    # 4. locate_and_truncate per cut and type (the student's own are cut without the teacher)
    truncated_rows: dict[tuple[str, str], float] = {}
    cuts = [c for c in CUTS if any(t[0] == c for t in triples)]
    for cut in cuts:
        truncated_rows[(cut, STUDENT_BUCKET)] = n_located
        tr = est.table(f"results/truncated/{cut}/student.parquet", TRUNCATED)
        if tr is not None:
            truncated_rows[(cut, STUDENT_BUCKET)] = tr.height
        for name in types:
            if not any(t == (cut, st, name) for st in STRATEGIES for t in triples):
                continue
            row = Row(f"locate_and_truncate/{cut}/{name}", "locate", cut, group=f"locate: injected mistakes ({cut})")
            mistakes = est.table(f"results/mistakes/{name}.parquet", MISTAKES)
            if mistakes is not None:
                est.exact(row, record(lambda t: truncate_mistakes(problems, mistakes, t, cut)))
                n_mistakes = mistakes.height
            else:
                n_mistakes = inject_calls[name] * rates["inject"][0]
                first = cut != cuts[0]
                if first:  # the same requests as the first cut: answered from the cache
                    row.calls_todo, row.shared = 0, round(n_mistakes)
                    row.basis, row.exact = f"estimate: the same requests as cut {cuts[0]} (from the cache)", False
                else:
                    est.estimated(
                        row,
                        n_mistakes,
                        record(lambda t: t.locate_errors([LocateRequest(v, v.solution) for v in views])),
                        f"{inject_calls[name]:.0f} injections x keep rate {rate_text('inject')}",
                    )
            add(row)
            done = est.table(f"results/truncated/{cut}/{name}.parquet", TRUNCATED)
            truncated_rows[(cut, name)] = done.height if done is not None else n_mistakes * rates["truncate"][0]

    # 5./6. correct and smooth_and_filter per cut, strategy and bucket
    for cut, strategy, bucket in triples:
        row = Row(f"correct/{cut}/{strategy}/{bucket}", strategy, cut, group=f"{strategy} ({cut})")
        tr = est.table(f"results/truncated/{cut}/{bucket}.parquet", TRUNCATED)
        phrases = est.cfg["reflection_phrases"]
        if tr is not None and graded is not None:
            est.exact(row, record(lambda t: correct(problems, tr, graded, t, strategy, phrases)))
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

            est.estimated(row, n_corr_in, record(standins), f"{n_corr_in:.0f} truncated rows ({src})")
        add(row)

        row = Row(f"smooth_and_filter/{cut}/{strategy}/{bucket}", "smooth", cut, group=f"smooth ({cut})")
        corr = est.table(f"results/corrections/{cut}/{strategy}/{bucket}.parquet", CORRECTIONS)
        if corr is not None:
            est.exact(row, record(lambda t: smooth_and_filter(problems, corr, t)))
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

            est.estimated(
                row,
                n,
                record(smooth_standins),
                f"{n_corr_in:.0f} corrections asked x keep rate {rate_text('correct')}",
            )
        add(row)
    return est.rows
