"""The judge benchmark (lemma.judging): its readers on sets they did not write (CHAMP's own files,
the built-in world's oracle-made mistakes), a ProcessBench-layout file, the metrics, and the two
checks of the harness itself: the oracle scores 1.0 on the world, and a judge that always answers
"step 1" scores what arithmetic says it must (through a real LLM teacher on a real HTTP server)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from lemma.cli import main
from lemma.judging.score import score
from lemma.judging.sets import SetError, champ_file, champ_set, processbench_set, split_paragraphs, world_set
from tests.fake_openai_server import FakeOpenAIServer, teacher_config

REPO = Path(__file__).resolve().parent.parent
PB_ROWS = [  # the ProcessBench layout: problem, steps, label (earliest wrong step, 0-based, or -1)
    {"id": "a", "problem": "2+3*4?", "steps": ["3*4 = 12.", "2 + 12 = 15.", "The answer is 15."], "label": 1},
    {"id": "b", "problem": "5-2?", "steps": ["5 - 2 = 3.", "The answer is 3."], "label": -1},
    {"id": "c", "problem": "6/2?", "steps": ["6 / 2 = 4.", "The answer is 4."], "label": 0},
    {"id": "d", "problem": "7+1?", "steps": ["7 + 1 = 8.", "So 8.", "The answer is 9."], "label": 2},
    {"id": "e", "problem": "9-9?", "steps": ["9 - 9 = 0.", "The answer is 0."], "label": -1},
]


def test_processbench_metrics_by_hand():
    s = score([1, -1, 0, 2, -1], [1, -1, 1, None, 0])
    assert (s.erroneous, s.correct) == (3, 2)
    assert s.acc_erroneous == pytest.approx(1 / 3) and s.acc_correct == pytest.approx(1 / 2)
    assert s.f1 == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))
    assert s.off_by_one == pytest.approx(1 / 3) and s.unparsed == pytest.approx(1 / 5) and s.said_correct == 0


def test_the_processbench_layout_and_its_errors(tmp_path):
    f = tmp_path / "pb.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in PB_ROWS))
    items = processbench_set(str(f))
    assert [i.label for i in items] == [1, -1, 0, 2, -1] and items[0].steps[1] == "2 + 12 = 15."
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(PB_ROWS[0]) + "\n" + json.dumps({**PB_ROWS[1], "label": 7}) + "\n")
    with pytest.raises(SetError, match=r"bad.jsonl line 2: field 'label': 7 is not -1 nor a step index below 2"):
        processbench_set(str(bad))
    bad.write_text(json.dumps({"problem": "x", "steps": "one step", "label": 0}) + "\n")
    with pytest.raises(SetError, match=r"line 1: field 'steps': expected list"):
        processbench_set(str(bad))


def test_champs_own_files_read_as_540_labelled_solutions():
    items = champ_set()
    assert len(items) == 540
    assert sum(i.label == -1 for i in items) == 96 and sum(i.label >= 0 for i in items) == 444
    assert {i.source for i in items} == {"GPT-3.5", "GPT-4", "GPT-4 Turbo", "PaLM 2 Medium"}
    # the annotated span starts inside the step the label names (read again from the raw file)
    raw = json.loads(open(champ_file()).read())["problems"]
    for item in items:
        pid, key = item.id.split("|", 1)
        ann = raw[pid]["fws_annotations"][key]
        spans = split_paragraphs(ann["text"])
        assert tuple(ann["text"][a:b] for a, b in spans) == item.steps
        if ann["start_idx"] is not None:
            a, b = spans[item.label]
            assert a <= ann["start_idx"] <= b + 2 or item.label == len(spans) - 1, (item.id, a, b, ann["start_idx"])


def test_the_worlds_mistakes_carry_their_true_step():
    items = world_set(40)
    assert len(items) == 40 and sum(i.label == -1 for i in items) == 20
    for i in items:
        assert i.label < len(i.steps) and i.structure


def _config(tmp_path: Path, teacher: dict, sets: dict) -> Path:
    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    cfg["teacher"], cfg["judge_bench"] = teacher, {"sets": sets}
    path = tmp_path / "bench.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    (tmp_path / "config").mkdir(exist_ok=True)
    (tmp_path / "config/taxonomy.yaml").write_text((REPO / "config/taxonomy.yaml").read_text())
    return path


def test_the_oracle_scores_one_on_the_world(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the command changes into --directory; restored after the test
    cfg = _config(tmp_path, {"kind": "oracle"}, {"world": {"source": "world", "n": 60}})
    assert main(["judge-bench", "--configfile", str(cfg), "--directory", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "results/judge/world.summary.json").read_text())
    assert (summary["items"], summary["f1"], summary["acc_erroneous"], summary["acc_correct"]) == (60, 1.0, 1.0, 1.0)
    assert "| world | oracle |" in capsys.readouterr().out
    assert (tmp_path / "results/judge/summary.md").exists() and (tmp_path / "results/judge/world.parquet").exists()


def test_a_judge_that_always_says_step_1_scores_what_arithmetic_says(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the command changes into --directory; restored after the test
    monkeypatch.setenv("FAKE_KEY", "sk-test-not-a-real-key-000")
    pb = tmp_path / "pb.jsonl"
    pb.write_text("".join(json.dumps(r) + "\n" for r in PB_ROWS))
    with FakeOpenAIServer(responder=lambda body: "The first wrong step is step 1.") as server:
        teacher = teacher_config(server.base_url, "FAKE_KEY")
        sets = {"pb": {"source": "processbench", "path": str(pb)}, "champ": {"source": "champ", "n": 60}}
        cfg = _config(tmp_path, teacher, sets)
        assert main(["judge-bench", "--configfile", str(cfg), "--directory", str(tmp_path)]) == 0
        first_calls = len(server.hits("ok"))
        pb_sum = json.loads((tmp_path / "results/judge/pb.summary.json").read_text())
        # a rerun pays nothing: every answer comes from the request cache
        assert main(["judge-bench", "--configfile", str(cfg), "--directory", str(tmp_path)]) == 0
        assert len(server.hits("ok")) == first_calls
        assert json.loads((tmp_path / "results/judge/pb.summary.json").read_text())["calls"] == 0
    # erroneous labels 1, 0, 2: only label 0 is hit; off by one: label 1; no correct one is said correct
    assert pb_sum["acc_erroneous"] == pytest.approx(1 / 3) and pb_sum["acc_correct"] == 0 and pb_sum["f1"] == 0
    assert pb_sum["off_by_one"] == pytest.approx(1 / 3) and pb_sum["said_correct"] == 0
    assert pb_sum["calls"] == 5 and pb_sum["prompt_tokens"] > 0
    champ_sum = json.loads((tmp_path / "results/judge/champ.summary.json").read_text())
    import polars as pl

    rows = pl.read_parquet(tmp_path / "results/judge/champ.parquet")
    wrong = rows.filter(pl.col("label") >= 0)
    assert champ_sum["acc_erroneous"] == pytest.approx((wrong["label"] == 0).mean())
    assert champ_sum["acc_correct"] == 0 and champ_sum["f1"] == 0 and (rows["prediction"] == 0).all()


def test_bad_sets_are_one_line_errors(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the command changes into --directory; restored after the test
    cfg = _config(
        tmp_path, {"kind": "oracle"}, {"pb": {"source": "processbench", "path": str(tmp_path / "none.jsonl")}}
    )
    assert main(["judge-bench", "--configfile", str(cfg), "--directory", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("lemma judge-bench: ") and "oracle judges only the built-in world" in err
    assert main(["judge-bench", "--configfile", str(cfg), "--set", "nope"]) == 2
    assert "no set nope" in capsys.readouterr().err


@pytest.mark.workflow
def test_the_judge_bench_rule_on_the_default_world_and_lemma_stats_shows_it(tmp_path):
    """`snakemake results/judge/summary.md` with the built-in default (outside the default target)."""
    import subprocess
    import sys

    from tests.workflow_helpers import make_workdir, snakemake

    wd = make_workdir(tmp_path / "run", REPO / "config/config.yaml")
    snakemake(wd, "results/judge/summary.md", timeout=300)
    table = (wd / "results/judge/summary.md").read_text()
    assert "| world | oracle | - | 200 (100/100) | 100.0 | 100.0 | **100.0** |" in table, table
    assert not (wd / "results/scores.csv").exists(), "the benchmark runs alone, not the method"
    stats = subprocess.run(
        [sys.executable, "-m", "lemma.cli", "stats", "--directory", str(wd), "--color", "never"],
        capture_output=True,
        text=True,
    )
    assert stats.returncode == 0, stats.stderr
    assert "Judge benchmark" in stats.stdout and "world" in stats.stdout
    # and in Snakemake's report
    snakemake(wd, "--report", str(wd / "report.html"), "results/judge/summary.html", timeout=300)
    assert "7. Judge benchmark" in (wd / "report.html").read_text(errors="replace")


def test_lemma_judge_bench_serves_the_teacher_itself_with_teacher_serve(tmp_path, monkeypatch):
    """teacher.serve: the command starts the server for its own calls and stops it after them."""
    from tests.test_teacher_server import answered, serve_section, wait_gone

    monkeypatch.chdir(tmp_path)
    pb = tmp_path / "pb.jsonl"
    pb.write_text("".join(json.dumps(r) + "\n" for r in PB_ROWS))
    requests = tmp_path / "requests.log"
    teacher = {
        "kind": "llm",
        "engine": "openai",
        "model": "fake-teacher",
        "max_retries": 0,
        "serve": serve_section(requests),
    }
    cfg = _config(tmp_path, teacher, {"pb": {"source": "processbench", "path": str(pb)}})
    assert main(["judge-bench", "--configfile", str(cfg), "--directory", str(tmp_path)]) == 0
    assert len(answered(requests)) == len(PB_ROWS)
    wait_gone(str(requests), 30)
    assert "starting the teacher server" in (tmp_path / "logs/teacher_server.log").read_text()


def _gated_workdir(tmp_path: Path, student: Path, teacher: dict, sets: dict, gate: dict) -> Path:
    from tests.workflow_helpers import make_workdir

    wd = make_workdir(tmp_path / "gated")
    cfg = yaml.safe_load((wd / "config/config.yaml").read_text())
    cfg["student"] = {"engine": "hf", "model": str(student), "batch_size": 64, "threads": 1}
    cfg["sampling"] = {**cfg["sampling"], "max_problems": 8, "max_new_tokens": 16}
    cfg["teacher"], cfg["judge_bench"] = teacher, {"sets": sets, "gate": gate}
    (wd / "config/config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    return wd


@pytest.fixture(scope="module")
def tiny_student(tmp_path_factory):
    from tests.tiny_models import build_tiny_llama

    return build_tiny_llama(tmp_path_factory.mktemp("student") / "model")


@pytest.mark.workflow
def test_the_gate_stops_a_weak_judge_before_any_augmentation_request(tmp_path, tiny_student, monkeypatch):
    from tests.workflow_helpers import snakemake

    monkeypatch.setenv("FAKE_KEY", "sk-test-not-a-real-key-000")
    pb = tmp_path / "pb.jsonl"
    pb.write_text("".join(json.dumps(r) + "\n" for r in PB_ROWS))
    with FakeOpenAIServer(responder=lambda body: "The first wrong step is step 1.") as server:
        teacher = teacher_config(server.base_url, "FAKE_KEY")
        wd = _gated_workdir(
            tmp_path,
            tiny_student,
            teacher,
            {"pb": {"source": "processbench", "path": str(pb)}},
            {"set": "pb", "min_f1": 0.5},
        )
        proc = snakemake(wd, "results/mistakes/calculation_error.parquet", check=False, timeout=600)
        asked = [h for h in server.hits("ok")]
    assert proc.returncode != 0
    log = proc.stdout + proc.stderr + (wd / "logs/judge_gate.log").read_text()
    assert "scores F1 0.0 on 5 items of judge_bench set 'pb'" in log and "no augmentation request was sent" in log, log[
        -3000:
    ]
    assert len(asked) == len(PB_ROWS), "only the calibration's judge requests reached the teacher"
    assert not (wd / "results/mistakes/calculation_error.parquet").exists()


@pytest.mark.workflow
def test_the_gate_lets_a_good_judge_through(tmp_path, tiny_student):
    from tests.workflow_helpers import snakemake

    wd = _gated_workdir(
        tmp_path,
        tiny_student,
        {"kind": "oracle"},
        {"world": {"source": "world", "n": 40}},
        {"set": "world", "min_f1": 0.9},
    )
    snakemake(wd, "results/mistakes/calculation_error.parquet", timeout=600)
    assert json.loads((wd / "results/judge/gate.json").read_text())["f1"] == 1.0
    assert (wd / "results/mistakes/calculation_error.parquet").exists()


def test_lemma_estimate_shows_the_calibrations_cost(tmp_path):
    import subprocess
    import sys

    cfg = yaml.safe_load((REPO / "config/examples/llama3-8b-gpt4o.yaml").read_text())
    cfg["judge_bench"] = {"sets": {"calib": {"source": "world", "n": 50}}, "gate": {"set": "calib", "min_f1": 0.6}}
    path = tmp_path / "gated.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    proc = subprocess.run(
        [sys.executable, "-m", "lemma.cli", "estimate", "--problems", "2000", "--configfile", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("locate: the judge's calibration"))
    assert line.split()[5] == "50", line  # calls to come: the calibration set's 50 items
    assert "50 items of judge_bench set 'calib'" in proc.stdout


def test_a_base_model_teacher_gets_one_text_to_continue(tmp_path, monkeypatch):
    """teacher.prompt_form completion (Gemma 3 270M, a base model): the completions endpoint with
    the prompt's system and user text, not chat messages; the verdict is read the same way."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FAKE_KEY", "sk-test-not-a-real-key-000")
    pb = tmp_path / "pb.jsonl"
    pb.write_text("".join(json.dumps(r) + "\n" for r in PB_ROWS))
    bodies = []

    def reply(body):
        bodies.append(body)
        return "Check: fine.\nthe solution is correct"

    with FakeOpenAIServer(responder=reply) as server:
        teacher = teacher_config(server.base_url, "FAKE_KEY", prompt_form="completion")
        cfg = _config(tmp_path, teacher, {"pb": {"source": "processbench", "path": str(pb)}})
        assert main(["judge-bench", "--configfile", str(cfg), "--directory", str(tmp_path)]) == 0
    assert len(bodies) == len(PB_ROWS) and all("prompt" in b and "messages" not in b for b in bodies)
    assert any("Step 1: 3*4 = 12." in b["prompt"] for b in bodies) and all(b["prompt"].endswith("\n\n") for b in bodies)
    summary = json.loads((tmp_path / "results/judge/pb.summary.json").read_text())
    assert summary["acc_correct"] == 1.0 and summary["said_correct"] == 1.0


@pytest.mark.workflow
def test_a_runs_own_verdicts_read_as_a_labelled_set(small_run):
    """locate_set: the step judge's verdicts of a finished run (the shared small run's oracle)."""
    import polars as pl

    from lemma.judging.sets import locate_set

    items = locate_set(str(small_run / "results"))
    steps = pl.read_parquet(small_run / "results/taxonomy/steps.parquet")
    located = steps.filter(pl.col("dropped").is_null())
    assert len(items) >= located.height > 0
    by_id = {i.id: i for i in items}
    for r in located.iter_rows(named=True):
        item = by_id[f"{r['problem_id']}:{r['sample_index']}"]
        assert item.label == r["first_wrong_step"] - 1 and item.label < len(item.steps)
    # the oracle's "no wrong step" verdicts are items labelled -1, as an LLM judge's "judged correct" are
    clean = steps.filter(pl.col("dropped") == "not_wrong")
    assert {by_id[f"{r['problem_id']}:{r['sample_index']}"].label for r in clean.iter_rows(named=True)} <= {-1}
    assert len(items) == located.height + clean.height
