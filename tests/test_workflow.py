"""The real snakemake on the small built-in world: every output, its schema, partial rebuilds."""

from __future__ import annotations

import json
import shutil

import polars as pl
import pytest
import yaml

from lemma.tables import records
from tests.workflow_helpers import SMALL_CONFIG_TYPES, planned_jobs, snakemake

pytestmark = pytest.mark.workflow

TYPES = SMALL_CONFIG_TYPES


@pytest.fixture(scope="module")
def run(small_run):
    return small_run


def table(wd, rel, schema):
    df = pl.read_parquet(wd / rel)
    assert dict(df.schema) == schema, rel
    return df


def test_every_stage_output_exists_with_its_schema(run):
    wd = run
    assert table(wd, "results/problems/train.parquet", records.PROBLEMS).height == 600
    for split in ("test", "test_ood"):
        assert table(wd, f"results/problems/{split}.parquet", records.PROBLEMS).height == 60
    assert (wd / "results/models/base/config.json").exists()
    samples = [table(wd, f"results/samples/train/{s}.parquet", records.SAMPLES) for s in (0, 1)]
    assert sum(s.height for s in samples) == 120 * 2
    graded = table(wd, "results/graded/train.parquet", records.GRADED)
    assert graded.height == 240 and 0 < graded["correct"].sum() < 240, (
        "the student must be right sometimes, wrong sometimes"
    )
    steps = table(wd, "results/taxonomy/steps.parquet", records.STEP_LABELS)
    assert steps.height > 0
    labels = table(wd, "results/taxonomy/labels.parquet", records.TYPE_LABELS)
    assert labels["error_type"].drop_nulls().len() > 0
    assert table(wd, "results/taxonomy/stats.parquet", records.TAXONOMY_STATS).height == 12
    assert (wd / "results/taxonomy/error_types.png").read_bytes()[:4] == b"\x89PNG"
    for t in TYPES:
        m = table(wd, f"results/mistakes/{t}.parquet", records.MISTAKES)
        assert m.height > 0, t
        assert (m["pred_answer"].is_not_null()).all()
    for bucket in ["student", *TYPES]:
        assert table(wd, f"results/truncated/first_error/{bucket}.parquet", records.TRUNCATED).height > 0, bucket
        for strategy in ("fix_continue", "fresh_restart"):
            c = table(wd, f"results/corrections/first_error/{strategy}/{bucket}.parquet", records.CORRECTIONS)
            k = table(wd, f"results/trajectories/first_error/{strategy}/{bucket}.parquet", records.TRAJECTORIES)
            assert c.height > 0 and 0 < k.height <= c.height and k["correct"].all(), (strategy, bucket)
            stats = json.loads((wd / f"results/trajectories/first_error/{strategy}/{bucket}.stats.json").read_text())
            assert stats["in"] == c.height and stats["out"] == k.height
    sft = [json.loads(line) for line in (wd / "results/sft/sft.jsonl").read_text().splitlines()]
    lemma = [json.loads(line) for line in (wd / "results/sft/lemma.jsonl").read_text().splitlines()]
    assert len(sft) == 600 and len(lemma) > 600
    assert {r["meta"]["source"] for r in lemma} == {"reference", "student", "augmented"}
    for layout in ("alpaca", "sharegpt", "messages"):
        assert len((wd / f"results/sft/exports/lemma.{layout}.jsonl").read_text().splitlines()) == len(lemma)
    for v in ("sft", "lemma"):
        assert (wd / f"results/models/{v}/config.json").exists()
        for b in ("test", "test_ood"):
            assert table(wd, f"results/eval/{v}/{b}.parquet", records.EVAL).height == 60
    scores = pl.read_csv(wd / "results/scores.csv")
    assert sorted(zip(scores["variant"], scores["benchmark"])) == sorted(
        (v, b) for v in ("sft", "lemma") for b in ("test", "test_ood")
    )
    assert ((scores["ci_low"] <= scores["accuracy"]) & (scores["accuracy"] <= scores["ci_high"])).all()
    md = (wd / "results/scores.md").read_text()
    assert "| lemma |" in md and md.startswith("Training protocol: steps: 10 steps of 8 examples")
    assert "| test | lemma − sft |" in md  # the paired comparison
    paired = pl.read_csv(wd / "results/compare/paired.csv")
    assert sorted(zip(paired["variant"], paired["benchmark"])) == [("lemma", "test"), ("lemma", "test_ood")]
    assert ((paired["ci_low"] <= paired["difference"]) & (paired["difference"] <= paired["ci_high"])).all()
    assert paired["mcnemar_p"].is_between(0, 1).all()
    mech = pl.read_csv(wd / "results/mechanism/reflections.csv")
    assert sorted(zip(mech["run"], mech["benchmark"])) == sorted(
        (v, b) for v in ("sft", "lemma") for b in ("test", "test_ood")
    )
    assert (mech["n"] == 60).all() and (
        mech["reflects"]
        == mech.select(["self_correction", "wrong_to_wrong", "harmful", "false_alarm", "unknown"]).sum_horizontal()
    ).all()
    assert (wd / "results/report/mechanism.png").read_bytes()[:4] == b"\x89PNG"
    budget = json.loads((wd / "results/models/lemma/budget.json").read_text())
    assert budget["protocol"] == "steps" and budget["steps"] == 10 and budget["rows"] == len(lemma)
    for rel in ("logs/train/lemma.log", "logs/inject_errors/calculation_error.log", "logs/scores.log"):
        assert (wd / rel).stat().st_size > 0, rel


def test_nothing_changed_means_nothing_to_do(run):
    assert planned_jobs(run) == []


def planned_after_edit(run, rel: str, edit) -> list[tuple[str, dict]]:
    """The dry-run job list after `edit(data)` of a YAML file of the run; the file is restored."""
    path = run / rel
    original = path.read_text()
    data = yaml.safe_load(original)
    edit(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    try:
        return planned_jobs(run)
    finally:
        path.write_text(original)


def test_editing_one_type_rebuilds_only_that_type(run):
    def edit(data):
        entry = next(t for t in data["types"] if t["name"] == "operator_error")
        entry["definition"] += " It includes swapping multiplication and division."

    jobs = planned_after_edit(run, "config/taxonomy.yaml", edit)
    rules = {r for r, _ in jobs}
    assert ("inject_errors", {"error_type": "operator_error"}) in jobs
    assert {"classify_errors", "taxonomy_stats"} <= rules
    assert not rules & {"sample_student", "grade_samples", "pretrain_student", "locate_errors", "load_problems"}
    assert [w for r, w in jobs if r == "inject_errors"] == [{"error_type": "operator_error"}]
    for rule in ("correct", "smooth_and_filter", "locate_and_truncate"):
        buckets = {w["bucket"] for r, w in jobs if r == rule}
        assert buckets == {"operator_error"}, (rule, buckets)
    assert planned_jobs(run) == [], "restoring the definition restores the up-to-date state"


def test_changing_temperature_reruns_from_sampling(run):
    jobs = planned_after_edit(run, "config/config.yaml", lambda c: c["sampling"].update(temperature=0.9))
    rules = {r for r, _ in jobs}
    assert {"sample_student", "grade_samples", "locate_errors", "inject_errors", "train", "evaluate", "scores"} <= rules
    assert not rules & {"pretrain_student", "load_problems"}


def test_changing_the_ood_shift_reruns_only_test_ood(run):
    jobs = planned_after_edit(run, "config/config.yaml", lambda c: c["world"].update(ood=["numbers", "longer"]))
    assert [w for r, w in jobs if r == "load_problems"] == [{"dataset": "test_ood"}]
    assert {w["benchmark"] for r, w in jobs if r == "evaluate"} == {"test_ood"}
    assert not {r for r, _ in jobs} & {"pretrain_student", "sample_student", "grade_samples", "train", "build_sft"}


def test_lint_is_clean():
    from tests.workflow_helpers import REPO

    proc = snakemake(REPO, "--lint", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_majority_vote_is_planned_only_when_asked_for(run):
    jobs = planned_after_edit(run, "config/config.yaml", lambda c: c["evaluation"].update(maj_k=4))
    majority = sorted((w["run"], w["benchmark"]) for r, w in jobs if r == "evaluate_majority")
    assert majority == sorted((v, b) for v in ("sft", "lemma") for b in ("test", "test_ood"))
    assert {r for r, _ in jobs} == {"evaluate_majority", "scores", "report_scores", "all"}


def test_seeds_train_each_variant_once_per_seed_from_the_same_set(run):
    jobs = planned_after_edit(run, "config/config.yaml", lambda c: c.update(seeds=[1, 2]))
    trains = sorted(w["run"] for r, w in jobs if r == "train")
    assert trains == ["lemma-s1", "lemma-s2", "sft-s1", "sft-s2"]
    assert sorted(w["run"] for r, w in jobs if r == "evaluate") == sorted(t for t in trains for _ in range(2))
    # the SFT sets and everything upstream are shared by the seeds
    assert not {r for r, _ in jobs} & {"build_sft", "pretrain_student", "sample_student", "correct"}
    assert {"scores", "compare_variants", "measure_reflection"} <= {r for r, _ in jobs}


def test_protocol_epochs_retrains_every_variant_only(run):
    jobs = planned_after_edit(
        run, "config/config.yaml", lambda c: c["training"].update(protocol="epochs", epochs=1, max_steps=None)
    )
    assert sorted(w["run"] for r, w in jobs if r == "train") == ["lemma", "sft"]
    assert not {r for r, _ in jobs} & {"build_sft", "pretrain_student", "sample_student"}


def test_rft_and_external_file_variants_build_for_real(run):
    """rft (the student's own distinct correct samples + references) and a variant reading an
    external alpaca file, built by the real build_sft rule from this run's graded samples."""
    from tests.workflow_helpers import REPO

    path = run / "config/config.yaml"
    original = path.read_text()
    data = yaml.safe_load(original)
    data["variants"]["rft"] = {"student_correct": True}
    data["variants"]["ext"] = {"file": str(REPO / "tests/data/sft_layouts/alpaca.jsonl"), "max_rows": 300}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    try:
        snakemake(run, "results/sft/rft.jsonl", "results/sft/ext.jsonl")
        rft = [json.loads(line) for line in (run / "results/sft/rft.jsonl").read_text().splitlines()]
        ext = [json.loads(line) for line in (run / "results/sft/ext.jsonl").read_text().splitlines()]
    finally:
        path.write_text(original)
        # the shared run stays as the small config made it, for tests that list its SFT sets
        for f in [
            *(run / "results/sft").glob("rft.*"),
            *(run / "results/sft").glob("ext.*"),
            *(run / "results/sft/exports").glob("rft.*"),
            *(run / "results/sft/exports").glob("ext.*"),
        ]:
            f.unlink()
    graded = pl.read_parquet(run / "results/graded/train.parquet").filter(pl.col("correct"))
    own = [r for r in rft if r["meta"]["source"] == "student_correct"]
    assert 0 < len(own) <= graded.height and len(rft) == 600 + len(own)
    assert len({(r["meta"]["problem_id"], r["response"]) for r in own}) == len(own)  # distinct
    assert len(ext) == 300 and sum(r["meta"]["source"] == "external" for r in ext) <= 2


def test_study_collects_a_finished_cell_and_names_an_unfinished_one(run, tmp_path):
    from lemma.study.grid import collect, make_cell

    (tmp_path / "steps-retry0").symlink_to(run)
    cfg = yaml.safe_load((run / "config/config.yaml").read_text())
    wd = make_cell(tmp_path, cfg, run / "config/taxonomy.yaml", "epochs", 0.5, [1, 2])
    made = yaml.safe_load((wd / "config/config.yaml").read_text())
    assert wd.name == "epochs-retry0.5" and made["training"]["protocol"] == "epochs"
    assert made["pretrain"]["retry_rate"] == 0.5 and made["seeds"] == [1, 2]
    md = collect(tmp_path)
    assert "### Cell epochs-retry0.5\nNot finished: no tables." in md
    assert "### Cell steps-retry0\nProtocol: steps: 10 steps of 8 examples" in md
    assert "| test | lemma − sft |" in md and "| lemma | 60 |" not in md  # answers pooled over benchmarks: 120
    assert "| lemma | 120 |" in md


def test_a_cell_seeded_from_a_finished_sibling_reruns_only_training_and_after(run, tmp_path):
    """lemma.study runs the second protocol of a pre-training from the first cell's outputs:
    nothing up to the SFT sets may rerun, every model must be retrained."""
    from lemma.study.grid import collect, make_cell, seed_from

    cfg = yaml.safe_load((run / "config/config.yaml").read_text())
    wd = make_cell(
        tmp_path, cfg, run / "config/taxonomy.yaml", "epochs", cfg.get("pretrain", {}).get("retry_rate", 0), None
    )
    seed_from(run, wd)
    # until it has run, the cell reports no tables (not the sibling's, copied with its outputs)
    assert f"### Cell {wd.name}\nNot finished" in collect(tmp_path)
    rules = {rule for rule, _ in planned_jobs(wd)}
    upstream = {
        "load_problems",
        "pretrain_student",
        "sample_student",
        "grade_samples",
        "locate_errors",
        "classify_errors",
        "taxonomy_stats",
        "inject_errors",
        "locate_and_truncate",
        "correct",
        "smooth_and_filter",
    }
    assert "train" in rules and "evaluate" in rules, rules
    assert not rules & upstream, f"a seeded cell reran upstream stages: {sorted(rules & upstream)}"
    # the sibling itself is untouched: its dry run still has nothing to do
    assert planned_jobs(run) == []


def test_majority_vote_runs_for_real(run):
    """maj@k as a user turns it on: evaluation.maj_k in the config, then the real evaluate_majority
    rule (scripts/evaluate_majority.py) samples the run's trained student and keeps each item's
    majority answer; the run is left as the small config made it."""
    from lemma.pipeline.grade import grade_texts

    path = run / "config/config.yaml"
    original = path.read_text()
    data = yaml.safe_load(original)
    data["evaluation"]["maj_k"] = 3
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    try:
        snakemake(run, "results/eval_maj/lemma/test.parquet")
        maj = table(run, "results/eval_maj/lemma/test.parquet", records.EVAL)
        log = (run / "logs/evaluate_majority/lemma/test.log").read_text()
    finally:
        path.write_text(original)
        for rel in ("results/eval_maj", "logs/evaluate_majority", "benchmarks/evaluate_majority"):
            shutil.rmtree(run / rel, ignore_errors=True)
    greedy = table(run, "results/eval/lemma/test.parquet", records.EVAL)
    assert maj["problem_id"].to_list() == greedy["problem_id"].to_list(), "one row per item, in problem order"
    assert maj["gold"].to_list() == greedy["gold"].to_list()
    assert "lemma on test, maj@3:" in log
    voted = maj.filter(pl.col("status") == "ok")
    assert voted.height > 0 and voted["pred_answer"].is_not_null().all()
    # the kept completion is one of the winning samples: graded alone, it gives the row's answer and verdict
    regraded = grade_texts(voted["completion"].to_list(), voted["gold"].to_list(), ["world"] * voted.height)
    assert [(g.pred_answer, g.correct) for g in regraded] == list(zip(voted["pred_answer"], voted["correct"]))
    unanswered = maj.filter(pl.col("status") != "ok")
    assert unanswered["pred_answer"].is_null().all() and not unanswered["correct"].any()


def test_the_evaluation_marker_setting_reruns_only_the_evaluations(run):
    """grading.require_marker is read per use: the evaluations' setting is not a parameter of
    grade_samples or smooth_and_filter, so flipping it reruns the benchmarks and what reads them."""

    def edit(data):
        data.setdefault("grading", {})["require_marker"] = {"evaluation": True}

    jobs = planned_after_edit(run, "config/config.yaml", edit)
    rules = {r for r, _ in jobs}
    assert "evaluate" in rules
    assert not rules & {"grade_samples", "smooth_and_filter", "train", "build_sft", "sample_student", "inject_errors"}
