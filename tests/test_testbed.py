"""The built-in world as a testbed (issue 12): training protocols, the paper's comparison variants
(RFT, max_rows, trajectories only, an external SFT file), paired statistics, the reflection
classifier, and retry data in pre-training."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import polars as pl
import pytest

from lemma.pipeline.evaluate import aggregate_seeds, markdown_table, score_table
from lemma.pipeline.sft import external_pair, external_rows, sft_rows, sft_stats
from lemma.pipeline.training import describe_protocol, protocol_steps, resolve_protocol
from lemma.study.mechanism import classify, find_reflection, measure, reflection_markers, summarise
from lemma.study.stats import compare_runs, discordant, mcnemar_exact, paired_bootstrap
from lemma.tables.scores import scores_table
from lemma.world.problems import generate_world
from tests.world_rows import world_rows

LAYOUTS = Path(__file__).parent / "data" / "sft_layouts"
PHRASES = [
    "Wait, something is off here.",
    "Hold on, let me check that step again.",
    "Hmm, that does not look right.",
    "Let me double-check this.",
    "On second thought, this step is wrong.",
]

# --- protocols ---------------------------------------------------------------------------------

BASE = {"global_batch": 16, "epochs": 3, "max_steps": 400, "max_tokens": 160_000}


def test_each_protocol_step_count_for_a_known_set_size():
    # 1000 rows of 50 tokens each, batches of 16
    assert protocol_steps({**BASE, "protocol": "steps"}, 1000, 50_000) == 400
    assert protocol_steps({**BASE, "protocol": "steps"}, 10_000, 500_000) == 400  # the same for any set
    assert protocol_steps({**BASE, "protocol": "epochs"}, 1000) == 188  # ceil(3 * 1000 / 16)
    assert protocol_steps({**BASE, "protocol": "epochs"}, 2600) == 488  # a bigger set gets more steps
    assert protocol_steps({**BASE, "protocol": "epochs", "epochs": 1}, 16) == 1
    # tokens: 160k / (16 rows * 50 tokens per row) = 200 steps; rows twice as long -> half the steps
    assert protocol_steps({**BASE, "protocol": "tokens"}, 1000, 50_000) == 200
    assert protocol_steps({**BASE, "protocol": "tokens"}, 1000, 100_000) == 100
    assert protocol_steps({**BASE, "protocol": "tokens"}, 3000, 150_000) == 200  # more rows, same length: same


def test_protocol_unset_keeps_old_meaning_and_errors_name_the_key():
    assert resolve_protocol({"max_steps": 10}) == "steps"
    assert resolve_protocol({"max_steps": None, "epochs": 3}) == "epochs"
    with pytest.raises(ValueError, match="max_tokens"):
        protocol_steps({**BASE, "protocol": "tokens", "max_tokens": None}, 10, 100)
    with pytest.raises(ValueError, match="max_steps"):
        protocol_steps({**BASE, "protocol": "steps", "max_steps": None}, 10)
    assert describe_protocol({**BASE, "protocol": "epochs"}).startswith("epochs: 3 passes")


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory):
    from lemma.world.student import build_student
    from lemma.world.tokenizer import train_tokenizer

    d = tmp_path_factory.mktemp("base")
    rows = generate_world(3, 60, 0, 0)["train"]
    tok = train_tokenizer((r["question"] + "\n" + r["solution"] for r in rows), str(d), vocab_size=300)
    build_student(tok, hidden=32, layers=1, heads=2, seed=0).save_pretrained(str(d))
    return d, rows


@pytest.mark.slow
def test_epochs_and_tokens_protocols_train_the_computed_steps(tiny_base, tmp_path):
    """A real (tiny) fine-tune: the epochs protocol runs ceil(epochs * rows / batch) steps, i.e.
    the configured passes over the set; the tokens protocol stops at its token budget."""
    from lemma.pipeline.training import count_tokens, run_training
    from lemma.text.prompting import format_prompt

    base, rows = tiny_base
    sft = tmp_path / "sft.jsonl"
    ex = [{"prompt": format_prompt(r["question"], "world"), "response": r["solution"]} for r in rows[:40]]
    sft.write_text("".join(json.dumps(e) + "\n" for e in ex))
    training = {
        "lr": 1e-3,
        "scheduler": "cosine",
        "warmup_ratio": 0.0,
        "epochs": 2,
        "max_steps": None,
        "per_device_batch": 8,
        "global_batch": 8,
        "cutoff_len": 256,
        "packing": False,
        "gradient_checkpointing": False,
        "weight_decay": 0.0,
        "seed": 0,
        "gpus": 0,
        "protocol": "epochs",
    }
    s = run_training(str(base), str(sft), str(tmp_path / "m1"), training, 1, str(tmp_path / "c1"))
    assert s["steps"] == 10 and s["budget"] == {"protocol": "epochs", "steps": 10, "rows": 40, "tokens": None}
    assert s["epochs"] == pytest.approx(2.0)
    n_tok = count_tokens(str(base), ex)
    budget = 3 * 8 * n_tok // 40  # three batches' worth of tokens
    s = run_training(
        str(base),
        str(sft),
        str(tmp_path / "m2"),
        {**training, "protocol": "tokens", "max_tokens": budget},
        1,
        str(tmp_path / "c2"),
    )
    assert s["budget"]["tokens"] == n_tok and s["steps"] == 3
    assert s["tokens"] == pytest.approx(budget, rel=0.35)  # the batches actually drawn: about the budget


# --- variants ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world():
    w = generate_world(5, 40, 0, 0)
    return pl.DataFrame(w["train"])


def _traj(problems: pl.DataFrame, n: int) -> pl.DataFrame:
    ids = problems["id"].to_list()[:n]
    return pl.DataFrame(
        {
            "problem_id": ids,
            "bucket": ["calculation_error"] * n,
            "sample_index": [0] * n,
            "error_type": ["calculation_error"] * n,
            "strategy": ["fix_continue"] * n,
            "smoothed": [f"Step 1: 1 + 1 = 3\nWait, 1 + 1 is 2.\nThe answer is: {i}" for i in range(n)],
        }
    )


def test_max_rows_is_a_seeded_sample_of_the_set(world):
    traj = _traj(world, 30)
    full = sft_rows(world, traj, {"trajectories": True}, "world", None, seed=1)
    assert len(full) == 70
    capped = sft_rows(world, traj, {"trajectories": True, "max_rows": 25}, "world", None, seed=1)
    again = sft_rows(world, traj, {"trajectories": True, "max_rows": 25}, "world", None, seed=1)
    other = sft_rows(world, traj, {"trajectories": True, "max_rows": 25}, "world", None, seed=2)
    assert len(capped) == 25 and capped == again and capped != other
    key = lambda r: (r["prompt"], r["response"])  # noqa: E731
    assert {key(r) for r in capped} <= {key(r) for r in full}
    assert len({key(r) for r in capped}) == 25  # drawn without replacement
    # both sources survive a cap (a uniform draw, not the first rows of one source)
    assert {r["source"] for r in capped} == {"reference", "augmented"}
    assert len(sft_rows(world, traj, {"trajectories": True, "max_rows": 500}, "world", None, seed=1)) == 70


def test_reference_false_keeps_trajectories_only(world):
    rows = sft_rows(world, _traj(world, 12), {"trajectories": True, "reference": False}, "world", None, seed=0)
    assert len(rows) == 12 and {r["source"] for r in rows} == {"augmented"}
    assert sft_stats(rows)["by_source"] == {"augmented": 12}


def test_rft_adds_distinct_correct_samples(world):
    ids = world["id"].to_list()
    sol = dict(zip(world["id"], world["solution"]))
    graded = pl.DataFrame(
        {
            "problem_id": [ids[0]] * 4 + [ids[1]] * 2,
            "sample_index": [0, 1, 2, 3, 0, 1],
            "completion": [
                sol[ids[0]],
                sol[ids[0]] + "  ",
                "Step 1: 2 + 2 = 5\nThe answer is: 5",
                "other right text",
                sol[ids[1]],
                "wrong",
            ],
            "correct": [True, True, False, True, True, False],
        }
    )
    rows = sft_rows(world, None, {"student_correct": True}, "world", None, seed=0, graded=graded)
    own = [r for r in rows if r["source"] == "student_correct"]
    # the duplicate (equal after whitespace) and the wrong samples are left out
    assert sorted((r["problem_id"], r["response"]) for r in own) == sorted(
        [(ids[0], sol[ids[0]]), (ids[0], "other right text"), (ids[1], sol[ids[1]])]
    )
    assert sum(r["source"] == "reference" for r in rows) == world.height


@pytest.mark.parametrize(
    "name,question,answer_end",
    [
        ("alpaca.jsonl", "A baker makes 24 rolls and sells 9. How many rolls are left?", "The answer is: 15"),
        (
            "metamathqa.jsonl",
            "If Tom reads 15 pages a day for 4 days, how many pages does he read?",
            "The answer is: 60",
        ),
        ("sharegpt.jsonl", "Mia has 7 apples and buys 5 more. How many apples does she have?", "The answer is: 12"),
        ("messages.jsonl", "Sam has 40 dollars and spends 13. How much is left?", "The answer is: 27"),
    ],
)
def test_external_sft_file_in_public_layouts(name, question, answer_end):
    rows = external_rows(str(LAYOUTS / name), "world")
    assert rows[0]["question"] == question and rows[0]["response"].endswith(answer_end)
    assert rows[0]["prompt"].startswith("Question: " + question) or question in rows[0]["prompt"]
    assert all(r["source"] == "external" for r in rows)


def test_external_layout_details_and_errors(tmp_path):
    alpaca = external_rows(str(LAYOUTS / "alpaca.jsonl"), "world")
    assert "Solve the word problem.\nAnn has 3 boxes" in alpaca[1]["question"]  # input joined to instruction
    share = external_rows(str(LAYOUTS / "sharegpt.jsonl"), "world")
    assert share[1]["question"] == "What is 6 times 8?" and share[1]["response"].startswith("6 * 8")  # first exchange
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"instruction": "q", "output": "a"}) + "\n" + json.dumps({"prompt_text": "q"}) + "\n")
    with pytest.raises(ValueError, match=r"bad.jsonl line 2: unknown SFT layout"):
        external_rows(str(bad), "world")
    with pytest.raises(ValueError, match="'assistant' turn"):
        external_pair({"messages": [{"role": "user", "content": "q"}]}, "f line 1")


def test_external_variant_builds_a_trainable_set(world, tmp_path):
    from lemma.pipeline.sft import export_rows
    from lemma.training.sft_data import check_example

    rows = sft_rows(world, None, {"reference": True, "file": str(LAYOUTS / "sharegpt.jsonl")}, "world", None, seed=0)
    assert sft_stats(rows)["by_source"] == {"reference": world.height, "external": 2}
    for i, r in enumerate(rows):
        check_example(r, f"row {i}")
    exported = export_rows(rows, dict(zip(world["id"], world["question"])), "alpaca")
    assert any(e["instruction"] == "What is 6 times 8?" for e in exported)


# --- paired statistics -------------------------------------------------------------------------


def test_mcnemar_exact_hand_computed():
    assert mcnemar_exact(1, 9) == pytest.approx(22 / 1024)  # 2 * P(X <= 1), X ~ Bin(10, 1/2) = 2 * 11 / 1024
    assert mcnemar_exact(9, 1) == pytest.approx(22 / 1024)
    assert mcnemar_exact(5, 5) == 1.0 and mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(0, 6) == pytest.approx(2 / 64)
    assert discordant([True, True, False, False], [True, False, True, True]) == (1, 2)


def test_paired_bootstrap_against_hand_and_normal_approximation():
    a, b = [1, 1, 1, 0], [0, 0, 0, 0]
    d, lo, hi = paired_bootstrap(a, b, n_boot=4000, seed=0)
    assert d == 0.75 and 0 <= lo <= 0.5 and hi == 1.0  # resampled means of {1,1,1,0} lie in [0, 1]
    assert paired_bootstrap([1] * 20, [0] * 20) == (1.0, 1.0, 1.0)  # no variation, no width
    rng = random.Random(0)
    x = [rng.random() < 0.6 for _ in range(400)]
    y = [rng.random() < 0.5 if xi else rng.random() < 0.3 for xi in x]  # correlated with x, as paired runs are
    d, lo, hi = paired_bootstrap(x, y, n_boot=20000, seed=1)
    diffs = [float(p) - float(q) for p, q in zip(x, y)]
    mean = sum(diffs) / len(diffs)
    se = math.sqrt(sum((v - mean) ** 2 for v in diffs) / (len(diffs) - 1) / len(diffs))
    assert d == pytest.approx(mean)
    assert lo == pytest.approx(mean - 1.96 * se, abs=0.006) and hi == pytest.approx(mean + 1.96 * se, abs=0.006)
    assert paired_bootstrap(x, y, n_boot=2000, seed=3) == paired_bootstrap(x, y, n_boot=2000, seed=3)


def test_compare_runs_on_fixture_predictions():
    ids = [f"t{i}" for i in range(10)]
    sft = {0: {i: k < 3 for k, i in enumerate(ids)}}  # right on t0-t2
    lemma = {0: {i: 1 <= k < 8 for k, i in enumerate(ids)}}  # right on t1-t7
    rows = compare_runs(
        {("sft", "test"): sft, ("lemma", "test"): lemma}, ["sft", "lemma"], ["test"], "sft", n_boot=2000
    )
    (r,) = rows
    assert (r["variant"], r["baseline"], r["items"], r["seeds"]) == ("lemma", "sft", 10, 1)
    assert r["difference"] == pytest.approx(0.4) and r["accuracy"] == 0.7 and r["baseline_accuracy"] == 0.3
    assert (r["only_variant"], r["only_baseline"]) == (5, 1)
    assert r["mcnemar_p"] == pytest.approx(2 * 7 / 64)  # 2 * P(X <= 1), X ~ Bin(6, 1/2)
    assert r["ci_low"] < 0.4 < r["ci_high"]
    # two seeds: an item's score is its mean over seeds; no McNemar (pairs not independent)
    lemma2 = {0: lemma[0], 1: {i: k < 5 for k, i in enumerate(ids)}}
    sft2 = {0: sft[0], 1: sft[0]}
    (r2,) = compare_runs({("sft", "test"): sft2, ("lemma", "test"): lemma2}, ["sft", "lemma"], ["test"], "sft")
    assert r2["seeds"] == 2 and r2["mcnemar_p"] is None and r2["accuracy"] == pytest.approx(0.6)


def test_scores_aggregate_seeds_with_mean_and_spread():
    evals = {
        (run, "test"): pl.DataFrame({"correct": c})
        for run, c in (
            ("sft-s1", [True] * 3 + [False] * 7),
            ("sft-s2", [True] * 5 + [False] * 5),
            ("lemma-s1", [True] * 4 + [False] * 6),
            ("lemma-s2", [True] * 4 + [False] * 6),
        )
    }
    runs = {"sft-s1": ("sft", 1), "sft-s2": ("sft", 2), "lemma-s1": ("lemma", 1), "lemma-s2": ("lemma", 2)}
    agg = aggregate_seeds(score_table(evals), runs)
    sft = agg.filter(pl.col("variant") == "sft").row(0, named=True)
    assert sft["accuracy"] == pytest.approx(0.4) and sft["sd"] == pytest.approx(math.sqrt(0.02))
    assert (sft["n"], sft["correct"], sft["seeds"]) == (20, 8, 2)
    md = markdown_table(scores_table(agg, ["sft", "lemma"], ["test"]), protocol="epochs: 3 passes")
    assert md.startswith("Training protocol: epochs: 3 passes") and "| sft | 40.0 ± 14.1 (" in md
    assert "| lemma | 40.0 ± 0.0 (" in md


# --- the reflection classifier -----------------------------------------------------------------


@pytest.fixture(scope="module")
def pay_problem():
    """'Max earns $12 an hour and works 6 hours a day for 4 days. How much does he earn?' (288)."""
    rows = world_rows(20)
    r = next(r for r in rows if r["question"].startswith("Max earns $12 an hour"))
    assert r["answer"] == "288"
    return r["structure"]


MARKERS = reflection_markers(PHRASES)


@pytest.mark.parametrize(
    "text,correct,outcome,etype",
    [
        ("Step 1: 12 * 6 = 72\nStep 2: 72 * 4 = 288\nThe answer is: 288", True, "none", None),
        (
            "Step 1: 12 * 6 = 62\nWait, something is off here: 12 * 6 is 72, not 62.\nStep 1: 12 * 6 = 72\n"
            "Step 2: 72 * 4 = 288\nThe answer is: 288",
            True,
            "self_correction",
            "calculation_error",
        ),
        (
            "Step 1: 12 + 6 = 18\nHmm, that does not look right.\nStep 2: 18 * 4 = 72\nThe answer is: 72",
            False,
            "wrong_to_wrong",
            "operator_error",
        ),
        (
            "Step 1: 12 * 6 = 72\nWait, I think I made a mistake.\nStep 1: 12 * 5 = 60\nStep 2: 60 * 4 = 240\n"
            "The answer is: 240",
            False,
            "harmful",
            None,
        ),
        (
            "Step 1: 12 * 6 = 72\nStep 2: 72 * 4 = 288\nLet me double-check this: 72 * 4 is 288.\nThe answer is: 288",
            True,
            "false_alarm",
            None,
        ),
        (
            "Step 1: 12 * 6 = 72\nThat gives 72.\nHold on, let me check that step again: the pay is 72 * 4.\n"
            "Step 2: 72 * 4 = 288\nThe answer is: 288",
            True,
            "self_correction",
            "missing_step",
        ),
        (
            "Step 1: 12 * 6 = 72\nStep 2: 72 * 4 = 298\nWait, step 115\nThe answer is: 298",
            False,
            "wrong_to_wrong",
            "calculation_error",
        ),
        (
            "Step 1: 13 * 6 = 78\nOn second thought, this step is wrong: the question says 12.\nStep 1: 12 * 6 = 72\n"
            "Step 2: 72 * 4 = 288\nThe answer is: 288",
            True,
            "self_correction",
            "context_value_error",
        ),
    ],
)
def test_reflection_classifier_on_hand_written_answers(pay_problem, text, correct, outcome, etype):
    got = classify(text, correct, pay_problem, MARKERS)
    assert (got["outcome"], got["error_type"]) == (outcome, etype), got
    assert got["reflects"] == (outcome != "none")


def test_reflection_markers_and_unchecked_answers(pay_problem):
    assert {"wait", "hold on", "hmm", "let me", "on second thought"} <= set(MARKERS)
    assert find_reflection("Step 1: 2 + 2 = 4\nWaiting time is 4.", MARKERS) is None  # a whole word only
    assert find_reflection("Step 1: 2 + 2 = 4\n  wait... 2 + 2 = 4", MARKERS) == 1
    assert classify("Some text\nWait, no.\nThe answer is: 3", True, None, MARKERS)["outcome"] == "unknown"
    items = [
        classify(t, c, pay_problem, MARKERS)
        for t, c in [
            ("Step 1: 12 * 6 = 72\nStep 2: 72 * 4 = 288\nThe answer is: 288", True),
            ("Step 1: 12 * 6 = 62\nWait, 12 * 6 is 72.\nStep 2: 72 * 4 = 288\nThe answer is: 288", True),
        ]
    ]
    assert summarise(items) == {
        "n": 2,
        "reflects": 1,
        "self_correction": 1,
        "wrong_to_wrong": 0,
        "harmful": 0,
        "false_alarm": 0,
        "unknown": 0,
        "reflect_rate": 0.5,
    }


def test_measure_tables_by_run_and_type(pay_problem):
    df = pl.DataFrame(
        {
            "problem_id": ["p1", "p2"],
            "correct": [True, False],
            "completion": [
                "Step 1: 12 * 6 = 62\nWait, 12 * 6 is 72.\nStep 2: 72 * 4 = 288\nThe answer is: 288",
                "Step 1: 12 * 6 = 72\nStep 2: 72 * 4 = 288\nThe answer is: 288",
            ],
        }
    )
    summary, typed = measure(
        {("lemma", "test"): df}, {"test": {"p1": pay_problem, "p2": pay_problem}}, {"lemma": ("lemma", 0)}, MARKERS
    )
    assert summary[0]["reflects"] == 1 and summary[0]["self_correction"] == 1
    assert typed == [
        {
            "run": "lemma",
            "variant": "lemma",
            "seed": 0,
            "benchmark": "test",
            "error_type": "calculation_error",
            "self_correction": 1,
            "wrong_to_wrong": 0,
        }
    ]


# --- retry data in pre-training ----------------------------------------------------------------


def test_retry_data_replaces_a_share_with_checked_corrections():
    from lemma.teacher.oracle.judge import judge
    from lemma.teacher.oracle.model import WorldModel
    from lemma.world.retry import with_retries
    from lemma.world.solution import final_answer

    rows = generate_world(11, 400, 0, 0)["train"]
    out, counts = with_retries(rows, 0.5, seed=3, phrases=PHRASES)
    assert len(out) == len(rows) and [r["question"] for r in out] == [r["question"] for r in rows]
    retried = [(r, o) for r, o in zip(rows, out) if "retry_type" in o]
    assert 160 <= len(retried) <= 240 and sum(counts.values()) == len(retried)  # about half
    assert len(counts) >= 5  # varied error types
    for r, o in retried:
        text = o["solution"]
        assert final_answer(text) == int(r["answer"])  # ends right
        i = find_reflection(text, MARKERS)
        assert i is not None and i >= 1, text
        got = classify(text, True, r["structure"], MARKERS)
        assert got["outcome"] == "self_correction", (text, got)  # the prefix really is wrong
        assert judge(WorldModel(r["structure"]), text) is None
    assert all(o["solution"] == r["solution"] for r, o in zip(rows, out) if "retry_type" not in o)
    assert with_retries(rows, 0.5, seed=3, phrases=PHRASES)[0] == out  # seeded
    assert with_retries(rows, 0.0, seed=3, phrases=[])[0] == rows


def test_testbed_config_checks_name_the_key(tmp_path):
    import yaml

    from lemma.config import ConfigError, file_checks, load_workflow_config

    ok = {"training": {"protocol": "epochs", "epochs": 3}, "variants": {"ext": {"file": "a.jsonl"}}}
    (tmp_path / "a.jsonl").write_text("{}\n")
    assert file_checks(ok, "c.yaml", tmp_path) == []
    (problem,) = file_checks({"variants": {"ext": {"file": "b.jsonl"}}}, "c.yaml", tmp_path)
    assert str(problem).startswith("c.yaml: key 'variants.ext.file': no such file 'b.jsonl'")
    cfg = yaml.safe_load(Path("config/config.yaml").read_text())
    cfg["training"].update(protocol="tokens", max_tokens=None)
    with pytest.raises(ConfigError, match="key 'training.max_tokens': protocol tokens needs it"):
        load_workflow_config(cfg, ["config/config.yaml"])


def test_paired_page_shows_the_interval_and_p_value():
    from lemma.study.stats import paired_html

    page = paired_html(
        [
            {
                "benchmark": "test",
                "variant": "lemma",
                "baseline": "sft",
                "seeds": 1,
                "items": 10,
                "accuracy": 0.7,
                "baseline_accuracy": 0.3,
                "difference": 0.4,
                "ci_low": 0.1,
                "ci_high": 0.7,
                "only_variant": 5,
                "only_baseline": 1,
                "mcnemar_p": 0.21875,
            }
        ]
    )
    assert "lemma − sft" in page and "+10.0 to +70.0" in page and "0.219" in page and "40.0" in page


@pytest.mark.slow
def test_pretraining_with_retry_data_trains_on_the_retry_texts(tmp_path):
    """A real (tiny) pre-training at retry rate 0.5: the summary counts the retry solutions, the
    tokenizer was trained on them (a reflection phrase round-trips in few tokens) and the accuracy
    figure is measured against the problems' answers, not the retry texts."""
    from transformers import AutoTokenizer

    from lemma.world.student import pretrain_student

    rows = generate_world(4, 120, 0, 0)["train"]
    s = pretrain_student(
        rows,
        str(tmp_path / "st"),
        {
            "max_steps": 6,
            "batch_size": 8,
            "hidden": 32,
            "layers": 1,
            "heads": 2,
            "logging_steps": 2,
            "save_steps": 3,
            "eval_problems": 8,
            "max_new_tokens": 24,
            "threads": 1,
            "retry_rate": 0.5,
            "retry_phrases": PHRASES,
        },
    )
    assert 40 <= s["retry_rows"] <= 80 and sum(s["retry_types"].values()) == s["retry_rows"]
    tok = AutoTokenizer.from_pretrained(str(tmp_path / "st"))
    phrase = "Wait, something is off here"
    assert tok.decode(tok(phrase, add_special_tokens=False)["input_ids"]) == phrase
    assert len(tok(phrase, add_special_tokens=False)["input_ids"]) <= 8  # words learnt from the retry texts
    with pytest.raises(ValueError, match="reflection phrases"):
        pretrain_student(rows, str(tmp_path / "bad"), {"max_steps": 1, "retry_rate": 0.5})


def test_scores_page_shows_the_spread_over_seeds():
    from lemma.report.tables import scores_html

    evals = {
        (run, "test"): pl.DataFrame({"correct": c})
        for run, c in (("sft-s1", [True] * 3 + [False] * 7), ("sft-s2", [True] * 5 + [False] * 5))
    }
    agg = aggregate_seeds(score_table(evals), {"sft-s1": ("sft", 1), "sft-s2": ("sft", 2)})
    assert "<b>40.0</b> ± 14.1" in scores_html(scores_table(agg))
    one = aggregate_seeds(score_table({("sft", "test"): evals[("sft-s1", "test")]}), {"sft": ("sft", 0)})
    assert "<b>30.0</b> <span" in scores_html(scores_table(one))  # one seed: no spread shown
