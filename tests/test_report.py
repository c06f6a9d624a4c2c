"""The report artefacts: funnel, SFT statistics, scores and example pages, and Snakemake's report
of the small built-in run opened in headless Chromium."""

from __future__ import annotations

import base64
import html
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import polars as pl
import pytest

from lemma.report.funnel import (
    STAGES,
    FunnelError,
    discover,
    drop_reasons,
    funnel,
    plot_funnel,
    read_stage_stats,
    smoothed_count,
)
from lemma.report.tables import (
    examples_html,
    pick_examples,
    read_curves,
    scores_html,
    sft_overview,
    sft_shares,
    with_types,
)
from lemma.tables import records
from lemma.tables.scores import scores_table
from tests.workflow_helpers import REPO, SMALL_CONFIG_TYPES, snakemake

# --- a hand-made results directory: every count below is chosen, so the funnel can be checked ----


def _stats(path: Path, stage: str, n_in: int, n_out: int, dropped: dict | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"stage": stage, "in": n_in, "out": n_out, "dropped": dropped or {}}))


@pytest.fixture
def results(tmp_path) -> Path:
    r = tmp_path / "results"
    (r / "graded").mkdir(parents=True)
    graded = pl.DataFrame(
        {
            "problem_id": [f"p{i}" for i in range(10)],
            "sample_index": [0] * 10,
            "completion": ["x"] * 10,
            "finish_reason": ["stop"] * 10,
            "pred_answer": ["1"] * 10,
            "correct": [True] * 3 + [False] * 7,
            "status": ["ok"] * 10,
        },
        schema=records.GRADED,
    )
    graded.write_parquet(r / "graded" / "train.parquet")
    (r / "taxonomy").mkdir()
    pl.DataFrame(
        {
            "problem_id": [f"p{i}" for i in range(3, 10)],
            "sample_index": [0] * 7,
            "first_wrong_step": [1] * 7,
            "error_type": ["calculation_error"] * 3 + ["operator_error"] * 2 + [None, None],
            "rationale": [""] * 7,
            "dropped": [None] * 5 + ["unparseable", "unparseable"],
        },
        schema=records.TYPE_LABELS,
    ).write_parquet(r / "taxonomy" / "labels.parquet")
    _stats(
        r / "mistakes/calculation_error.stats.json", "inject_errors:calculation_error", 8, 5, {"answer_still_right": 3}
    )
    _stats(r / "mistakes/operator_error.stats.json", "inject_errors:operator_error", 8, 6, {"answer_still_right": 2})
    _stats(r / "truncated/first_error/student.stats.json", "truncate:student:first_error", 7, 6, {"no_step": 1})
    _stats(r / "truncated/first_error/calculation_error.stats.json", "truncate:first_error", 5, 4, {"no_step": 1})
    for bucket, n in (("student", 6), ("calculation_error", 4)):
        _stats(
            r / f"corrections/first_error/fix_continue/{bucket}.stats.json",
            "correct:fix_continue",
            n,
            n - 1,
            {"empty": 1},
        )
    # smoothing failed once; the filter dropped three (two wrong answers, one grading timeout)
    _stats(
        r / "trajectories/first_error/fix_continue/student.stats.json",
        "smooth_and_filter",
        5,
        1,
        {"smooth:unparseable": 1, "final_answer_wrong": 2, "grade_timeout": 1},
    )
    _stats(r / "trajectories/first_error/fix_continue/calculation_error.stats.json", "smooth_and_filter", 3, 3)
    return r


def test_funnel_counts_each_stage_from_the_stats_files(results):
    table = funnel(results)
    assert dict(table.schema) == {
        "bucket": pl.Utf8,
        "cut": pl.Utf8,
        "strategy": pl.Utf8,
        **{s: pl.Int64 for s in STAGES},
    }
    rows = {r["bucket"]: r for r in table.iter_rows(named=True)}
    assert list(rows) == ["student", "calculation_error", "operator_error"]
    assert {k: rows["student"][k] for k in STAGES} == {
        "samples": 10,
        "wrong": 7,
        "classified": 5,
        "injected": None,
        "truncated": 6,
        "corrected": 5,
        "smoothed": 4,
        "kept": 1,
    }
    assert {k: rows["calculation_error"][k] for k in STAGES} == {
        "samples": 10,
        "wrong": 7,
        "classified": 3,
        "injected": 5,
        "truncated": 4,
        "corrected": 3,
        "smoothed": 3,
        "kept": 3,
    }
    # operator_error has been injected but not truncated yet: a half-finished run still shows
    op = rows["operator_error"]
    assert (op["classified"], op["injected"], op["truncated"], op["kept"]) == (2, 6, None, None)


def test_funnel_follows_the_buckets_and_strategies_it_is_given(results):
    table = funnel(results, buckets=["student", "calculation_error"], strategies=["fix_continue", "fresh_restart"])
    assert table.select("bucket", "strategy").rows() == [
        ("student", "fix_continue"),
        ("student", "fresh_restart"),
        ("calculation_error", "fix_continue"),
        ("calculation_error", "fresh_restart"),
    ]
    assert table.filter(pl.col("strategy") == "fresh_restart")["kept"].is_null().all()
    assert discover(results) == (["student", "calculation_error", "operator_error"], ["first_error"], ["fix_continue"])


def test_drop_reasons_lists_every_stage_file(results):
    (results / "sft").mkdir()
    (results / "sft/lemma.stats.json").write_text(json.dumps({"rows": 3}))  # not a stage stats file
    df = drop_reasons(results)
    assert ("trajectories/first_error/fix_continue/student.stats.json", "grade_timeout", 1) in df.select(
        "file", "reason", "count"
    ).rows()
    assert df["count"].sum() == 3 + 2 + 1 + 1 + 1 + 1 + 1 + 2 + 1
    assert not df["file"].str.starts_with("sft/").any()


def test_smoothed_counts_only_smoothing_failures_as_lost():
    st = {
        "stage": "smooth_and_filter",
        "in": 10,
        "out": 4,
        "dropped": {"smooth:empty": 2, "final_answer_wrong": 3, "grade_no_answer": 1},
    }
    assert smoothed_count(st) == 8


def test_malformed_stats_file_is_named(tmp_path):
    bad = tmp_path / "x.stats.json"
    bad.write_text(json.dumps({"stage": "s", "in": 1, "out": 1}))
    with pytest.raises(FunnelError, match=r"x\.stats\.json.*'dropped'"):
        read_stage_stats(bad)
    bad.write_text("{not json")
    with pytest.raises(FunnelError, match="not valid JSON"):
        read_stage_stats(bad)


def test_funnel_plot_is_a_png(results, tmp_path):
    plot_funnel(funnel(results), tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"


def _traj(rows: list[dict]) -> pl.DataFrame:
    base = {
        "bucket": "calculation_error",
        "sample_index": 0,
        "error_type": "calculation_error",
        "strategy": "fix_continue",
        "prefix": "Step 1: 2 + 2 = 5",
        "phrase": "Wait, let me check.",
        "continuation": "2 + 2 is 4.\nThe answer is: 4",
        "trajectory": "t",
        "smoothed": "s",
        "pred_answer": "4",
        "correct": True,
    }
    return pl.DataFrame([{**base, **r} for r in rows], schema=records.TRAJECTORIES)


def test_examples_set_the_three_parts_apart_and_escape_text():
    traj = _traj(
        [
            {"problem_id": "p1", "prefix": "Step 1: <b>5</b> & more"},
            {"problem_id": "p2"},
            {"problem_id": "p1", "sample_index": 1},
            {"problem_id": "p3", "strategy": "fresh_restart"},
        ]
    )
    page = examples_html(traj, "Examples", n_per_strategy=2, questions={"p1": "What is 2 + 2?"})
    assert "&lt;b&gt;5&lt;/b&gt; &amp; more" in page and "<b>5</b>" not in page
    i_prefix, i_phrase, i_fix = (page.index(f'class="part {c}"') for c in ("prefix", "phrase", "fix"))
    assert i_prefix < i_phrase < i_fix
    assert "What is 2 + 2?" in page
    assert "fix_continue (2 of 3)" in page and "fresh_restart (1 of 1)" in page
    # distinct problems first: p1 and p2 before p1's second sample
    assert pick_examples(traj, 2, strategy="fix_continue")["problem_id"].to_list() == ["p1", "p2"]
    assert pick_examples(traj, 3, strategy="fix_continue")["sample_index"].to_list() == [0, 0, 1]


def test_the_students_own_mistakes_take_the_judges_label():
    traj = _traj(
        [
            {"problem_id": "p1", "bucket": "student", "error_type": None, "sample_index": 2},
            {"problem_id": "p2", "bucket": "student", "error_type": None},
        ]
    )
    labels = pl.DataFrame(
        {
            "problem_id": ["p1"],
            "sample_index": [2],
            "first_wrong_step": [1],
            "error_type": ["counting_error"],
            "rationale": [""],
            "dropped": [None],
        },
        schema=records.TYPE_LABELS,
    )
    assert with_types(traj, labels)["error_type"].to_list() == ["counting_error", None]


def test_scores_page_shows_each_accuracy_with_its_interval():
    scores = pl.DataFrame(
        {
            "variant": ["sft", "sft", "lemma", "lemma"],
            "benchmark": ["a", "b", "a", "b"],
            "n": [100] * 4,
            "correct": [50, 20, 60, 30],
            "accuracy": [0.5, 0.2, 0.6, 0.3],
            "ci_low": [0.4, 0.13, 0.5, 0.22],
            "ci_high": [0.6, 0.29, 0.69, 0.4],
        }
    )
    page = scores_html(scores_table(scores, ["sft", "lemma"], ["a", "b"]))
    assert "<b>60.0</b>" in page and "(50.0–69.0)" in page and "60/100" in page
    assert page.index(">sft<") < page.index(">lemma<")
    assert "<td>45.0</td>" in page  # lemma's average of 60 and 30
    with pytest.raises(ValueError, match="ci_low"):
        scores_table(scores.drop("ci_low"))


def test_sft_statistics_tables():
    stats = {
        "sft": {
            "rows": 10,
            "reference_rows": 10,
            "trajectory_rows": 0,
            "avg_tokens": 40.0,
            "trajectory_share_by_type": {},
            "trajectory_share_by_strategy": {},
        },
        "lemma": {
            "rows": 14,
            "reference_rows": 10,
            "trajectory_rows": 4,
            "avg_tokens": 50.5,
            "trajectory_share_by_type": {"calculation_error": 0.75, "unlabelled": 0.25},
            "trajectory_share_by_strategy": {"fix_continue": 0.5, "fresh_restart": 0.5},
        },
    }
    ov = sft_overview(stats)
    assert ov.select("variant", "rows", "trajectory_rows").rows() == [("sft", 10, 0), ("lemma", 14, 4)]
    assert ov["trajectory_share"].to_list() == [0.0, 4 / 14]
    shares = sft_shares(stats, "type")
    assert shares.rows() == [("calculation_error", None, 0.75), ("unlabelled", None, 0.25)]


def test_training_curves_read_back_from_the_trainers_log(tmp_path):
    from lemma.report.curves import write_curves_csv

    history = [
        {"step": 10, "epoch": 0.5, "loss": 2.0, "learning_rate": 1e-4, "grad_norm": 1.5},
        {"step": 20, "epoch": 1.0, "loss": 1.2, "learning_rate": 5e-5, "grad_norm": 1.1, "tokens_per_s": 900.0},
        {"train_runtime": 3.0, "step": 20},
    ]
    write_curves_csv(history, tmp_path / "curves.csv")
    rows = read_curves(tmp_path / "curves.csv")
    assert [(r["step"], r["loss"]) for r in rows] == [(10, 2.0), (20, 1.2)]
    assert rows[0]["tokens_per_s"] != rows[0]["tokens_per_s"]  # not logged: NaN
    with pytest.raises(FileNotFoundError, match="curves.csv"):
        read_curves(tmp_path / "missing" / "curves.csv")


# --- the small built-in run --------------------------------------------------------------------


@pytest.mark.workflow
def test_report_artefacts_agree_with_the_stage_tables(report_run):
    wd = report_run
    table = pl.read_csv(wd / "results/report/funnel.csv")
    assert table["bucket"].unique(maintain_order=True).to_list() == ["student", *SMALL_CONFIG_TYPES]
    graded = pl.read_parquet(wd / "results/graded/train.parquet")
    for r in table.iter_rows(named=True):
        b, s = r["bucket"], r["strategy"]
        assert (r["samples"], r["wrong"]) == (graded.height, int((~graded["correct"]).sum()))
        assert r["truncated"] == pl.read_parquet(wd / f"results/truncated/first_error/{b}.parquet").height
        assert r["corrected"] == pl.read_parquet(wd / f"results/corrections/first_error/{s}/{b}.parquet").height
        assert r["kept"] == pl.read_parquet(wd / f"results/trajectories/first_error/{s}/{b}.parquet").height
        assert r["corrected"] >= r["smoothed"] >= r["kept"] > 0
        if b != "student":
            assert r["injected"] == pl.read_parquet(wd / f"results/mistakes/{b}.parquet").height
    for name in ("funnel.png", "curves/sft.png", "curves/lemma.png", "curves/all_variants.png"):
        assert (wd / "results/report" / name).read_bytes()[:4] == b"\x89PNG", name
    for bucket in ["student", *SMALL_CONFIG_TYPES]:
        page = (wd / f"results/report/examples/{bucket}.html").read_text()
        shown = sum(
            min(3, pl.read_parquet(wd / f"results/trajectories/first_error/{s}/{bucket}.parquet").height)
            for s in ("fix_continue", "fresh_restart")
        )  # 3 per strategy at most
        assert page.count('class="part phrase"') == shown > 0, bucket
    # the HTML scores page has the markdown table's columns, reflection columns included
    page, md = (wd / "results/report/scores.html").read_text(), (wd / "results/scores.md").read_text()
    header = next(line for line in md.splitlines() if line.startswith("| variant |"))
    for column in header.strip("| ").split(" | "):
        assert f">{html.escape(column)}</th>" in page, column
    sft = pl.read_csv(wd / "results/report/sft_stats.csv")
    assert sft.select("variant", "rows").rows() == [
        (v, len((wd / f"results/sft/{v}.jsonl").read_text().splitlines())) for v in ("sft", "lemma")
    ]


class DevTools:
    """A minimal Chrome DevTools Protocol client: one page target, commands and their events."""

    def __init__(self, exe: str, user_data_dir: Path):
        import websocket  # websocket-client

        self.proc = subprocess.Popen(
            [
                exe,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={user_data_dir}",
                "--remote-debugging-port=0",
                "--window-size=1400,900",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: close() kills the helpers too
        )
        port_file = user_data_dir / "DevToolsActivePort"  # Chromium writes its chosen port here
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError(f"chromium did not start (exit code {self.proc.poll()})")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        pages = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
        self.ws = websocket.create_connection(
            next(p["webSocketDebuggerUrl"] for p in pages if p["type"] == "page"), timeout=60
        )
        self.next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def eval(self, expression: str, context_id: int | None = None):
        extra = {"contextId": context_id} if context_id is not None else {}
        r = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True, **extra)
        if "exceptionDetails" in r:
            raise AssertionError(f"{expression[:80]}...: {r['exceptionDetails']}")
        return r["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 20.0, context_id: int | None = None):
        deadline = time.monotonic() + timeout
        while True:
            value = self.eval(expression, context_id)
            if value or time.monotonic() > deadline:
                return value
            time.sleep(0.2)

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and browser log errors (failed loads, CSP) so far."""
        out = []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console: " + " ".join(str(a.get("value", a.get("description"))) for a in p.get("args", [])))
            elif m == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                out.append(f"exception: {d.get('text')} {d.get('exception', {}).get('description', '')}")
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                out.append(f"log: {p['entry'].get('text')} {p['entry'].get('url', '')}")
        return out

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"]))
        return path

    def close(self) -> None:
        if getattr(self, "ws", None):
            self.ws.close()
        # Chromium's helper processes (renderer, crash handler) outlive a killed main process and
        # kept writing to the profile while the test removed it ("Directory not empty: 'Default'")
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.workflow
def test_snakemake_report_opens_in_chromium_without_errors(report_run):
    exe = _chromium()
    if exe is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium); .ci/run installs it")
    pytest.importorskip("websocket", reason="websocket-client is needed to talk to Chromium's DevTools")
    wd = report_run
    report = wd / "report.html"
    snakemake(wd, "--report", str(report))
    assert report.stat().st_size > 0
    with tempfile.TemporaryDirectory(prefix="lemma-chromium-") as profile:
        cdp = DevTools(exe, Path(profile))
        try:
            for domain in ("Runtime", "Log", "Page"):
                cdp.send(f"{domain}.enable")
            cdp.send("Page.navigate", url=report.as_uri())
            assert cdp.wait_for("typeof results === 'object' && document.body.innerText.includes('4. Scores')"), (
                "the report's app did not render"
            )
            entries = cdp.eval("Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.mime_type]))")
            expected = {
                "results/taxonomy/error_types.png": "image/png",
                "results/report/funnel.png": "image/png",
                "results/report/funnel.html": "text/html",
                "results/report/sft_stats.html": "text/html",
                "results/report/scores.html": "text/html",
                "results/scores.csv": "text/csv",
                "results/report/curves/sft.png": "image/png",
                "results/report/curves/lemma.png": "image/png",
                "results/report/curves/all_variants.png": "image/png",
                "results/report/mechanism.png": "image/png",
                "results/report/mechanism.html": "text/html",
                "results/report/paired.html": "text/html",
                **{f"results/report/examples/{b}.html": "text/html" for b in ["student", *SMALL_CONFIG_TYPES]},
            }
            assert {k: entries.get(k) for k in expected} == expected
            # every plot decodes as an image in the browser
            sizes = cdp.eval("""Promise.all(Object.values(results).filter(r => r.mime_type === 'image/png').map(r =>
                new Promise(ok => { const i = new Image(); i.onload = () => ok([r.name, i.naturalWidth]);
                                    i.onerror = () => ok([r.name, 0]); i.src = r.data_uri; })))""")
            assert len(sizes) == 6 and all(w > 100 for _, w in sizes), sizes
            # open the scores page the way a reader does: category, then the file's view button
            cdp.eval("[...document.querySelectorAll('a')].find(a => a.innerText.trim() === '4. Scores').click()")
            assert cdp.wait_for("[...document.querySelectorAll('tr')].some(r => r.innerText.includes('scores.html'))")
            cdp.eval("""[...document.querySelectorAll('tr')].find(r => r.innerText.includes('results/report/scores.html'))
                        .querySelector('a').click()""")
            assert cdp.wait_for("!!document.querySelector('iframe')")
            frame = None
            for _ in range(50):
                children = cdp.send("Page.getFrameTree")["frameTree"].get("childFrames", [])
                frame = next((c["frame"] for c in children if "filename=scores.html" in c["frame"]["url"]), None)
                if frame:
                    break
                time.sleep(0.2)
            assert frame, "the scores page was not shown in the report's frame"
            ctx = cdp.send("Page.createIsolatedWorld", frameId=frame["id"])["executionContextId"]
            rows = cdp.wait_for(
                "[...document.querySelectorAll('#scores tbody tr')].map(r => r.innerText)", context_id=ctx
            )
            assert [r.split()[0] for r in rows] == ["sft", "lemma"], rows
            assert all("–" in r and "/60" in r for r in rows), rows  # interval and correct/total in every row
            time.sleep(0.5)  # let late console messages arrive
            cdp.send("Runtime.evaluate", expression="1")
            shot = cdp.screenshot(REPO / "artifacts" / "report-scores.png")
            print(f"report screenshot: {shot}")
            assert cdp.errors() == []
        finally:
            cdp.close()
