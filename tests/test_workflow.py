"""The real snakemake on the small built-in world: every output, its schema, partial rebuilds."""

from __future__ import annotations

import json

import polars as pl
import pytest
import yaml

from lemma import records
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
    assert graded.height == 240 and 0 < graded["correct"].sum() < 240, "the student must be right sometimes, wrong sometimes"
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
        (v, b) for v in ("sft", "lemma") for b in ("test", "test_ood"))
    assert ((scores["ci_low"] <= scores["accuracy"]) & (scores["accuracy"] <= scores["ci_high"])).all()
    assert "| lemma |" in (wd / "results/scores.md").read_text()
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


def test_lint_is_clean():
    from tests.workflow_helpers import REPO

    proc = snakemake(REPO, "--lint", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_majority_vote_is_planned_only_when_asked_for(run):
    jobs = planned_after_edit(run, "config/config.yaml", lambda c: c["evaluation"].update(maj_k=4))
    majority = sorted((w["variant"], w["benchmark"]) for r, w in jobs if r == "evaluate_majority")
    assert majority == sorted((v, b) for v in ("sft", "lemma") for b in ("test", "test_ood"))
    assert {r for r, _ in jobs} == {"evaluate_majority", "scores", "report_scores", "all"}
