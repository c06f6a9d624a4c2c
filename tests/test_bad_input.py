"""Bad input never loses data: on a finished run, a malformed config, taxonomy or dataset row stops
snakemake with an error that names the file and the key (or line and field), and every existing
results/ file keeps its bytes and its mtime. Config and taxonomy errors stop it before any job
starts; a dataset row is read by the load_problems job (a CPU-only local rule that every other job
depends on), so that job starts, fails, and leaves no output behind.

Each case edits a copy of the shared finished run (chaos_helpers.chaos_reference), runs the user's
plain command, checks, puts the file back, and checks a dry run still plans nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.chaos_helpers import chaos_reference, copy_run, incomplete_outputs, snapshot  # noqa: F401 - a fixture
from tests.workflow_helpers import REPO, planned_jobs, snakemake

pytestmark = pytest.mark.workflow


def _edit_yaml(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def _hot_temperature(wd: Path) -> list[str]:
    _edit_yaml(wd / "config/config.yaml", lambda c: c["sampling"].update(temperature="hot"))
    return ["config/config.yaml", "sampling.temperature", "'hot'"]


def _yaml_syntax(wd: Path) -> list[str]:
    cfg = wd / "config/config.yaml"
    cfg.write_text(cfg.read_text() + "sampling: {n: 2, temperature: [0.7\n")
    # the Snakefile reads it through lemma.config.load_yaml first, which names file, line and column
    return ["config/config.yaml", "not valid YAML", "line"]


def _taxonomy_without_definition(wd: Path) -> list[str]:
    _edit_yaml(wd / "config/taxonomy.yaml", lambda t: t["types"][1].pop("definition"))
    return ["config/taxonomy.yaml", "types.1", "definition"]


def _unknown_augment_type(wd: Path) -> list[str]:
    _edit_yaml(wd / "config/config.yaml", lambda c: c["augment"].update(types=["calculation_eror"]))
    return ["config/config.yaml", "augment.types.0", "calculation_eror"]


def _dataset_row_without_answer(wd: Path) -> list[str]:
    """A new benchmark from a local GSM8K-format file whose second row lacks its answer."""
    rows = [json.loads(line) for line in (REPO / "tests/data/loaders/gsm8k.jsonl").read_text().splitlines()]
    del rows[1]["answer"]
    data = wd / "data/extra.jsonl"
    data.parent.mkdir(exist_ok=True)
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    _edit_yaml(
        wd / "config/config.yaml",
        lambda c: c["benchmarks"].update(
            extra={"source": "file", "path": "data/extra.jsonl", "format": "gsm8k", "style": "gsm8k"}
        ),
    )
    return ["data/extra.jsonl line 2", "'answer'", "missing"]


CASES = {
    "config value of the wrong type": (_hot_temperature, True),
    "config that is not YAML": (_yaml_syntax, True),
    "taxonomy entry without definition": (_taxonomy_without_definition, True),
    "augment type not in the taxonomy": (_unknown_augment_type, True),
    "dataset row without its field": (_dataset_row_without_answer, False),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_stops_the_run_and_keeps_results(case, chaos_reference, tmp_path):
    edit, before_any_job = CASES[case]
    wd = copy_run(chaos_reference.workdir, tmp_path / "run")
    originals = {p: p.read_bytes() for p in (wd / "config").glob("*.yaml")}
    before = snapshot(wd)
    logs_before = {p for p in (wd / "logs").rglob("*") if p.is_file()}

    expected = edit(wd)
    proc = snakemake(wd, check=False)  # the user's plain command, rerun on a finished run
    said = proc.stdout + proc.stderr
    new_logs = {p for p in (wd / "logs").rglob("*") if p.is_file()} - logs_before
    # a job that fails says why in its own log, which Snakemake points the user to
    said += "".join(p.read_text() for p in new_logs)

    assert proc.returncode != 0, f"{case}: snakemake accepted it:\n{said[-3000:]}"
    for text in expected:
        assert text in said, f"{case}: the error does not name {text!r}:\n{said[-3000:]}"
    after = snapshot(wd)
    assert after.keys() == before.keys(), f"{case}: files appeared or vanished: {sorted(after.keys() ^ before.keys())}"
    changed = [rel for rel in before if after[rel] != before[rel]]
    assert not changed, f"{case}: results changed (bytes or mtime): {changed}"
    assert not incomplete_outputs(wd), f"{case}: outputs left marked incomplete"
    if before_any_job:
        assert "Job stats" not in said and not new_logs, f"{case}: a job started: {new_logs}\n{said[-2000:]}"
    else:
        # only the one job that reads the file started (and failed, leaving no output)
        assert [p.name for p in new_logs] == ["extra.log"], new_logs
        assert not (wd / "results/problems/extra.parquet").exists()

    # Put the input back: the run is whole again, with nothing to redo.
    for p, data in originals.items():
        p.write_bytes(data)
    assert planned_jobs(wd) == [], f"{case}: the finished run needs work again after the input was restored"
