"""The one training path (lemma.training.finetune.train) on a tiny student and a few steps.

Covers: loss masking of prompt tokens (padded and packed), packed attention not crossing example
boundaries, resume after a real SIGKILL ending with the weights of an uninterrupted run, the final
HF-format dir, curves.csv. Threads are pinned to 1 so that runs are bit-for-bit repeatable.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from lemma.text.prompting import format_prompt
from lemma.training.finetune import COMPLETE_MARKER, TrainParams, grad_accum_steps, train
from lemma.training.sft_data import IGNORE_INDEX, load_sft_jsonl, make_collator, tokenize_examples
from lemma.world.student import build_student
from lemma.world.tokenizer import train_tokenizer
from tests.workflow_helpers import REPO


def fixture_rows(seed: int, n: int) -> list[dict]:
    """Built-in-world-like problems (1-2 steps), enough to train a tokenizer and a few steps on."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        a, b = rng.randint(2, 12), rng.randint(2, 15)
        c = rng.randint(a * b + 1, a * b + 60)
        name = rng.choice(["Tom", "Ann", "Ben", "Lia"])
        item = rng.choice(["pens", "apples", "books"])
        q = f"{name} buys {a} {item} at {b} dollars each. He pays with {c} dollars. How much change does he get?"
        sol = f"Step 1: {a} * {b} = {a * b}\nStep 2: {c} - {a * b} = {c - a * b}\nThe answer is: {c - a * b}"
        rows.append({"question": q, "solution": sol, "answer": str(c - a * b)})
    return rows


def sft_examples(rows):
    return [{"prompt": format_prompt(r["question"], "world"), "response": r["solution"]} for r in rows]


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A saved tokenizer + tiny random Llama (the 'base model dir' a fine-tune starts from)."""
    d = tmp_path_factory.mktemp("base")
    rows = fixture_rows(0, 300)
    tok = train_tokenizer((r["question"] + "\n" + r["solution"] for r in rows), str(d), vocab_size=300)
    model = build_student(tok, hidden=32, layers=2, heads=2, seed=0)
    model.save_pretrained(str(d))
    return {"dir": d, "tok": tok, "rows": rows}


@pytest.fixture
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


PARAMS = {
    "max_steps": 12,
    "save_steps": 4,
    "logging_steps": 2,
    "global_batch": 8,
    "per_device_batch": 4,  # grad accumulation 2: resume must land on optimizer steps
    "lr": 3e-3,
    "warmup_ratio": 0.1,
    "cutoff_len": 256,
    "group_by_length": True,
    "seed": 7,
    "threads": 1,
}


def test_prompt_tokens_masked_padded(base):
    tok = base["tok"]
    exs = sft_examples(base["rows"][:5])
    data = tokenize_examples(exs, tok, cutoff_len=512)
    for ex, item in zip(exs, data.items):
        p_ids = tok(ex["prompt"])["input_ids"]
        r_ids = tok(ex["response"], add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        assert item["input_ids"] == p_ids + r_ids
        assert item["labels"] == [IGNORE_INDEX] * len(p_ids) + r_ids
    batch = make_collator(tok, packing=False)([data[i] for i in range(5)])
    for i, item in enumerate(data.items):
        n = len(item["input_ids"])
        assert batch["labels"][i, :n].tolist() == item["labels"]
        assert (batch["labels"][i, n:] == IGNORE_INDEX).all()  # padding never counts
        assert batch["attention_mask"][i].sum() == n


def test_prompt_tokens_masked_packed_and_isolated(base):
    tok = base["tok"]
    data = tokenize_examples(sft_examples(base["rows"][:4]), tok, cutoff_len=512)
    items = [data[i] for i in range(4)]
    packed = make_collator(tok, packing=True)(items)
    assert packed["input_ids"].shape[0] == 1 and "attention_mask" not in packed
    off = 0
    for it in items:
        n = len(it["input_ids"])
        assert packed["input_ids"][0, off : off + n].tolist() == it["input_ids"]
        # the example's own masking (its first label is the separator, a prompt token anyway)
        assert packed["labels"][0, off : off + n].tolist() == it["labels"]
        assert packed["position_ids"][0, off : off + n].tolist() == list(range(n))
        off += n
    # Attention does not cross example boundaries: packed logits equal each example run alone.
    # (use_cache=False as in training: transformers only reads packing from position_ids without a cache)
    model = AutoModelForCausalLM.from_pretrained(str(base["dir"]), attn_implementation="eager").eval()
    with torch.no_grad():
        logits = model(input_ids=packed["input_ids"], position_ids=packed["position_ids"], use_cache=False).logits[0]
        off = 0
        for it in items:
            n = len(it["input_ids"])
            alone = model(input_ids=torch.tensor([it["input_ids"]])).logits[0]
            torch.testing.assert_close(logits[off : off + n], alone, atol=1e-5, rtol=1e-5)
            off += n


def test_cutoff_truncates_response_and_drops_long_prompts(base):
    tok = base["tok"]
    ex = sft_examples(base["rows"][:1])[0]
    n_prompt = len(tok(ex["prompt"])["input_ids"])
    data = tokenize_examples([ex, {"prompt": ex["prompt"] * 3, "response": "x"}], tok, cutoff_len=n_prompt + 5)
    assert len(data) == 1 and data.truncated == 1 and data.dropped == 1
    assert len(data[0]["input_ids"]) == n_prompt + 5


def test_grad_accum_and_params_validation():
    assert grad_accum_steps(256, 4, 8) == 8
    assert grad_accum_steps(16, 16, 1) == 1
    with pytest.raises(ValueError, match="not a multiple"):
        grad_accum_steps(256, 3, 8)
    with pytest.raises(ValueError, match="unknown training params.*'learning_rate'"):
        TrainParams.from_dict({"learning_rate": 1e-5})  # the config's names: lr
    assert TrainParams().lr == 1e-5 and TrainParams().global_batch == 256


def test_load_sft_jsonl_names_line_and_field(tmp_path):
    f = tmp_path / "sft.jsonl"
    f.write_text(json.dumps({"prompt": "q", "response": "a"}) + "\n" + json.dumps({"prompt": "q"}) + "\n")
    with pytest.raises(ValueError, match=r"sft.jsonl line 2: field 'response'"):
        load_sft_jsonl(f)


DRIVER = textwrap.dedent(
    """
    import json, sys, time
    from transformers import TrainerCallback
    from lemma.training.finetune import train

    class Slow(TrainerCallback):  # gives the test time to kill the job between two checkpoints
        def on_step_end(self, args, state, control, **kw):
            time.sleep(float(sys.argv[4]))

    base, data, out = sys.argv[1:4]
    examples = [json.loads(l) for l in open(data)]
    params = json.loads(sys.argv[5])
    summary = train(base, base, examples, out, params, callbacks=[Slow()])
    print("SUMMARY " + json.dumps(summary))
    """
)


def _weights(d: Path) -> dict[str, torch.Tensor]:
    return load_file(str(d / "model.safetensors"))


@pytest.mark.slow
def test_resume_after_sigkill_matches_uninterrupted_run(base, tmp_path, one_thread):
    data = tmp_path / "sft.jsonl"
    examples = sft_examples(base["rows"][:96])
    data.write_text("".join(json.dumps(e) + "\n" for e in examples))
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    out = tmp_path / "killed"
    cmd = [sys.executable, str(driver), str(base["dir"]), str(data), str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}

    # 1. start, wait for the first complete checkpoint, SIGKILL before the next one
    proc = subprocess.Popen(
        [*cmd, "0.15", json.dumps(PARAMS)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    state = out / "checkpoints" / "checkpoint-4" / "trainer_state.json"
    deadline = time.time() + 60
    while not state.exists():
        assert proc.poll() is None, proc.stdout.read()
        assert time.time() < deadline, "no checkpoint within 60 s"
        time.sleep(0.02)
    time.sleep(0.2)  # let the save finish its last file (trainer_state.json is written last)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (out / COMPLETE_MARKER).exists()
    assert not (out / "checkpoints" / "checkpoint-12").exists()

    # 2. rerun the same command: it must resume from the newest checkpoint
    rerun = subprocess.run([*cmd, "0", json.dumps(PARAMS)], env=env, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    summary = json.loads(rerun.stdout.split("SUMMARY ")[1])
    resumed = summary["resumed_from"]
    assert resumed in {"checkpoint-4", "checkpoint-8"}
    assert f"starting at step {resumed.split('-')[1]}" in rerun.stdout
    assert summary["steps"] == 12

    # 3. an uninterrupted run with the same seed (in this process) ends with the same weights
    ref = tmp_path / "ref"
    ref_summary = train(str(base["dir"]), str(base["dir"]), examples, str(ref), PARAMS)
    assert ref_summary["resumed_from"] is None
    a, b = _weights(out), _weights(ref)
    assert a.keys() == b.keys()
    # Stated tolerance: 1e-6 absolute (fp32, one thread, CPU: same data order, RNG and optimizer state).
    for k in a:
        assert torch.allclose(a[k], b[k], rtol=0, atol=1e-6), k
    # the weights did move: a test that compared two untrained models would prove nothing
    init = load_file(str(base["dir"] / "model.safetensors"))
    assert any(not torch.allclose(a[k], init[k]) for k in a)

    # 4. the final dir: HF format, reloads, generates; marker last; checkpoints cleaned up
    assert (out / COMPLETE_MARKER).exists() and not (out / "checkpoints").exists()
    model = AutoModelForCausalLM.from_pretrained(str(out))
    tok = AutoTokenizer.from_pretrained(str(out))
    enc = tok(format_prompt(base["rows"][0]["question"], "world"), return_tensors="pt")
    gen = model.generate(**enc, max_new_tokens=5, do_sample=False)
    assert gen.shape[1] == enc["input_ids"].shape[1] + 5 or gen[0, -1] == tok.eos_token_id
    assert isinstance(tok.decode(gen[0]), str)

    # 5. curves.csv: one row per logging step, continuous across the kill
    lines = (out / "curves.csv").read_text().splitlines()
    assert lines[0] == "step,epoch,loss,lr,grad_norm,tokens_per_s"
    assert [int(r.split(",")[0]) for r in lines[1:]] == list(range(2, 13, 2))
    assert all(float(r.split(",")[2]) > 0 for r in lines[1:])
    ref_lines = (ref / "curves.csv").read_text().splitlines()
    # same losses as the uninterrupted run (tokens/s differs, it is a timing)
    assert [r.split(",")[:4] for r in lines] == [r.split(",")[:4] for r in ref_lines]
    assert (out / "curves.png").stat().st_size > 1000


def test_changed_params_restart_instead_of_resuming(base, tmp_path, one_thread):
    examples = sft_examples(base["rows"][:32])
    params = {**PARAMS, "max_steps": 4, "save_steps": 2, "keep_checkpoints": True, "logging_steps": 1}
    out = tmp_path / "m"
    train(str(base["dir"]), None, examples, str(out), params)
    assert (out / "checkpoints" / "checkpoint-2").exists()
    # same out_dir, other learning rate: the old checkpoints must not be resumed
    s = train(str(base["dir"]), None, examples, str(out), {**params, "lr": 1e-4})
    assert s["resumed_from"] is None and s["steps"] == 4
    assert len((out / "curves.csv").read_text().splitlines()) == 1 + 4


def test_epoch_budget_checkpoints_per_epoch(base, tmp_path, one_thread):
    examples = sft_examples(base["rows"][:16])
    params = {**PARAMS, "max_steps": None, "epochs": 2, "keep_checkpoints": True, "logging_steps": 1}
    out = tmp_path / "e"
    s = train(str(base["dir"]), None, examples, str(out), params)
    assert s["steps"] == 4 and round(s["epochs"]) == 2  # 16 examples / global batch 8 = 2 steps per epoch
    # one per epoch but the last, whose state is the final model (resuming from a checkpoint at the
    # last step would make transformers run one step more: NoCheckpointAtTheEnd)
    assert sorted(p.name for p in (out / "checkpoints").glob("checkpoint-*")) == ["checkpoint-2"]


# --- the `training:` section is the TrainParams surface -------------------------------------------

# What config/config.yaml's training section gave TrainParams before the config and TrainParams
# shared one vocabulary (taken from that code: learning_rate 3e-4, lr_scheduler cosine, ...): the
# default run must keep training with exactly these values. One deliberate change since: max_steps
# 400 -> 300, when the calibrated student's longer pre-training needed the time (docs/world-study.md).
DEFAULT_RUN_TRAIN_PARAMS = {
    "lr": 3e-4,
    "scheduler": "cosine",
    "min_lr_ratio": None,
    "warmup_ratio": 0.03,
    "epochs": 3,
    "max_steps": 300,
    "global_batch": 16,
    "per_device_batch": 16,
    "cutoff_len": 512,
    "packing": False,
    "group_by_length": False,
    "gradient_checkpointing": False,
    "weight_decay": 0.0,
    "adam_beta1": 0.9,
    "adam_beta2": 0.999,
    "adam_epsilon": 1e-08,
    "max_grad_norm": 1.0,
    "optim": "adamw_torch",
    "seed": 0,
    "bf16": None,
    "model_dtype": "float32",
    "attn_implementation": None,
    "logging_steps": 10,
    "log_every": None,
    "save_steps": None,
    "save_total_limit": 2,
    "checkpoint_dir": "results/checkpoints/sft",
    "keep_checkpoints": False,
    "threads": 1,
    "deepspeed": None,
    "dataloader_num_workers": 0,
}
# TrainParams fields the rule sets itself: where the checkpoints live (outside its output directory,
# which Snakemake deletes before a rerun, and under results/checkpoints/{run} so the rerun resumes).
SET_BY_THE_RULE = {"checkpoint_dir"}
# TrainParams defaults the workflow deliberately does not share: the seed (the config's 0 names the
# default run's data order) and threads (None: torch's choice; the workflow gives the job's threads).
WORKFLOW_DEFAULTS = {"seed": 0, "threads": 1}


def _default_training() -> dict:
    import yaml

    from lemma.config import load_workflow_config

    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    return load_workflow_config(cfg, ["config/config.yaml"], REPO)[0]["training"]


def test_the_default_config_trains_with_the_same_params_as_before():
    from lemma.pipeline.training import protocol_steps, train_params

    training = _default_training()
    steps = protocol_steps(training, n_rows=1000)
    params = TrainParams.from_dict(train_params(training, training["threads"], "results/checkpoints/sft", steps))
    assert dataclasses.asdict(params) == DEFAULT_RUN_TRAIN_PARAMS
    assert [type(v) for v in dataclasses.asdict(params).values()] == [
        type(v) for v in DEFAULT_RUN_TRAIN_PARAMS.values()
    ]


def test_every_train_param_is_a_documented_training_key_with_the_same_default():
    from lemma.config import load_schema
    from lemma.pipeline.training import WORKFLOW_KEYS

    keys = load_schema("config")["properties"]["training"]["properties"]
    fields = {f.name: f.default for f in dataclasses.fields(TrainParams)}
    assert set(fields) - SET_BY_THE_RULE == set(keys) - set(WORKFLOW_KEYS)
    for name, default in fields.items():
        if name in SET_BY_THE_RULE:
            continue
        assert keys[name]["default"] == WORKFLOW_DEFAULTS.get(name, default), name
    assert [name for name, key in keys.items() if not key.get("description")] == []
    doc = (REPO / "docs/config.md").read_text()
    assert all(f"`training.{name}`" in doc for name in keys)
