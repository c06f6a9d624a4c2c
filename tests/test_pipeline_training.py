"""lemma.pipeline.training: the training budget's protocols, the config → TrainParams mapping, the
token count of a set (a tiny real tokenizer) and the testbed checks the schema cannot express.
(run_training itself trains in tests/test_testbed.py.)"""

from __future__ import annotations

import pytest

from lemma.pipeline.training import (
    count_tokens,
    describe_protocol,
    pretrain_params,
    protocol_steps,
    resolve_protocol,
    train_params,
)

TRAINING = {
    "lr": 1e-5,
    "scheduler": "cosine",
    "warmup_ratio": 0.03,
    "epochs": 3,
    "max_steps": None,
    "per_device_batch": 4,
    "global_batch": 16,
    "cutoff_len": 512,
    "packing": False,
    "gradient_checkpointing": True,
    "weight_decay": 0.0,
    "seed": 42,
    "gpus": 1,
    "accelerate_config": None,
}


def test_protocols_and_their_step_counts():
    assert resolve_protocol(TRAINING) == "epochs"
    assert resolve_protocol({**TRAINING, "max_steps": 40}) == "steps"
    assert resolve_protocol({**TRAINING, "protocol": "tokens"}) == "tokens"
    with pytest.raises(ValueError, match="training.protocol"):
        resolve_protocol({"protocol": "minutes"})
    # epochs: ceil(3 x 50 / 16) = 10; steps: as set; tokens: ceil(8000 / (16 x 2000 / 50)) = 13
    assert protocol_steps(TRAINING, 50) == 10
    assert protocol_steps(TRAINING, 1) == 1
    assert protocol_steps({**TRAINING, "max_steps": 40}, 50) == 40
    assert protocol_steps({**TRAINING, "protocol": "tokens", "max_tokens": 8000}, 50, 2000) == 13
    with pytest.raises(ValueError, match="empty"):
        protocol_steps(TRAINING, 0)
    with pytest.raises(ValueError, match="max_steps is not set"):
        protocol_steps({**TRAINING, "protocol": "steps"}, 50)
    with pytest.raises(ValueError, match="token count"):
        protocol_steps({**TRAINING, "protocol": "tokens", "max_tokens": 8000}, 50)


def test_describe_protocol():
    assert describe_protocol(TRAINING) == "epochs: 3 passes over each variant's own set, batches of 16"
    assert describe_protocol({**TRAINING, "max_steps": 400}) == "steps: 400 steps of 16 examples for every variant"
    assert describe_protocol({**TRAINING, "protocol": "tokens", "max_tokens": 10**6}) == (
        "tokens: 1000000 training tokens for every variant, batches of 16"
    )


def test_train_params_maps_every_key():
    # the config's names are TrainParams' names: everything but where the job runs passes through
    where_it_runs = ("gpus", "accelerate_config")
    passed = {k: v for k, v in TRAINING.items() if k not in where_it_runs}
    assert train_params(TRAINING, threads=2, checkpoint_dir="ckpt", max_steps=10) == {
        **passed,
        "max_steps": 10,
        "threads": 2,
        "checkpoint_dir": "ckpt",
    }
    assert train_params({**TRAINING, "max_steps": 7}, threads=1)["max_steps"] == 7, "unset: the config's"


def test_pretrain_params_with_and_without_retry_data():
    pretrain = {"max_steps": 100, "batch_size": 8, "lr": 1e-3, "hidden": 64, "layers": 2, "vocab_size": 400}
    plain = pretrain_params(pretrain, seed=3, threads=2)
    assert plain == {
        "max_steps": 100,
        "batch_size": 8,
        "lr": 1e-3,
        "hidden": 64,
        "layers": 2,
        "vocab_size": 400,
        "seed": 3,
        "threads": 2,
        "checkpoint_dir": None,
    }
    retry = pretrain_params({**pretrain, "retry_rate": 0.1}, seed=3, threads=2, phrases=("Wait.",))
    assert retry == {**plain, "retry_rate": 0.1, "retry_phrases": ["Wait."]}
    assert pretrain_params({**pretrain, "retry_rate": 0}, seed=3, threads=2) == plain


def test_count_tokens_prompt_with_specials_response_and_eos(tmp_path):
    from transformers import AutoTokenizer

    from lemma.world.tokenizer import train_tokenizer

    # a tokenizer directory is all count_tokens reads (a byte-level BPE trained here, with BOS/EOS)
    model = str(tmp_path / "tok")
    train_tokenizer(
        ["Tom reads 12 pages every day.", "The answer is: 252", "Question: Answer:"] * 4, model, vocab_size=300
    )
    tok = AutoTokenizer.from_pretrained(model)
    assert tok("x", add_special_tokens=True)["input_ids"] != tok("x", add_special_tokens=False)["input_ids"]
    examples = [
        {"prompt": "Tom reads 12 pages.", "response": "The answer is: 252"},
        {"prompt": "Question: ", "response": "Answer"},
    ]
    expected = sum(
        len(tok(e["prompt"], add_special_tokens=True)["input_ids"])
        + len(tok(e["response"], add_special_tokens=False)["input_ids"])
        + 1
        for e in examples
    )
    assert count_tokens(model, examples) == expected
    assert count_tokens(model, examples[:1]) < expected and count_tokens(model, []) == 0


def test_file_checks_name_a_missing_variant_file(tmp_path):
    # (the protocol's budget keys are schema rules now: tests/test_config.py)
    from lemma.config import file_checks

    (tmp_path / "extra.jsonl").write_text("{}\n")
    ok = {"training": TRAINING, "variants": {"lemma": {}, "ext": {"file": "extra.jsonl"}}}
    assert file_checks(ok, "c.yaml", str(tmp_path)) == []
    bad = {"training": TRAINING, "variants": {"ext": {"file": "missing.jsonl"}}}
    (problem,) = file_checks(bad, "c.yaml", str(tmp_path))
    assert problem.key == "variants.ext.file" and "no such file 'missing.jsonl'" in problem.message
