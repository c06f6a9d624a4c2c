"""lemma.training.launch: the accelerate command of each machine, the refusal to train on several
nodes outside a SLURM job, and real multi-process training on CPU (gloo): 1 machine x 2 processes
and 2 machines x 1 process (two `accelerate launch`, ranks 0 and 1, on this host) give the same
loss curve. (tests/test_slurm.py runs the 2-node case as a real 2-node SLURM job.)"""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest

from lemma.pipeline.training import run_training
from lemma.training.launch import LaunchError, Layout, accelerate_command, free_port, slurm_allocation

FINETUNE = ["--model", "M", "--data", "D", "--out", "O", "--params", "P"]


def test_layout_from_the_training_section():
    assert Layout.from_training({"gpus": 0}) == Layout(1, 1)
    assert Layout.from_training({"gpus": 8, "nodes": 4}).processes == 32
    assert Layout.from_training({"gpus": 0, "nodes": 2}) == Layout(2, 1)  # one CPU process per node


def test_each_machine_gets_its_rank_the_main_address_and_the_world_size():
    cmd = accelerate_command(Layout(2, 4), FINETUNE, "config/accelerate/zero2.yaml", 1, "10.0.0.3", 29501)
    text = " ".join(cmd)
    assert "--config_file config/accelerate/zero2.yaml" in text and "--multi_gpu" not in text
    assert "--num_processes 8 --num_machines 2 --machine_rank 1" in text
    assert "--main_process_ip 10.0.0.3 --main_process_port 29501" in text
    assert cmd[-len(FINETUNE) - 2 :] == ["-m", "lemma.training.finetune", *FINETUNE]
    one = " ".join(accelerate_command(Layout(1, 2), FINETUNE))
    assert "--multi_gpu --num_processes 2 --num_machines 1" in one and "machine_rank" not in one
    with pytest.raises(ValueError, match="main address"):
        accelerate_command(Layout(2, 1), FINETUNE)


def test_several_nodes_outside_a_slurm_job_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    with pytest.raises(LaunchError, match="training.nodes is 2: training on several nodes runs inside a SLURM job"):
        slurm_allocation(Layout(2, 1))


# ---- real training on CPU ------------------------------------------------------------------------

TRAINING = {
    "max_steps": 6,
    "per_device_batch": 2,
    "global_batch": 8,
    "lr": 1e-3,
    "logging_steps": 1,
    "seed": 3,
    "cutoff_len": 64,
    "warmup_ratio": 0.03,
    "gradient_checkpointing": False,
}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A tiny model and an SFT set of 64 rows."""
    from tests.tiny_models import build_tiny_llama

    d = tmp_path_factory.mktemp("launch")
    build_tiny_llama(d / "model")
    rows = [{"prompt": f"Q{i}: {i}+{i}?", "response": f"{i}+{i}={2 * i}. The answer is: {2 * i}"} for i in range(64)]
    (d / "sft.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return d


def loss_curve(model_dir: Path) -> list[tuple[int, float]]:
    with open(model_dir / "curves.csv") as f:
        return [(int(r["step"]), round(float(r["loss"]), 5)) for r in csv.DictReader(f)]


def summary_of(model_dir: Path) -> dict:
    return json.loads((model_dir / "training_complete.json").read_text())


@pytest.mark.slow
def test_two_machines_of_one_process_train_as_one_machine_of_two(tiny_run):
    d = tiny_run
    # 1 machine x 2 processes: the train rule's path with training.gpus 2 (on CPU: gloo; accelerate's
    # CPU launcher would have started a single process)
    training = {**TRAINING, "gpus": 2, "nodes": 1, "accelerate_config": None}
    run_training(str(d / "model"), str(d / "sft.jsonl"), str(d / "one"), training, threads=1)
    one = loss_curve(d / "one")
    assert len(one) == 6 and summary_of(d / "one")["world_size"] == 2

    # 2 machines x 1 process: what srun starts on each node of a 2-node job, here both on this host
    params = d / "params.json"
    params.write_text(json.dumps({**TRAINING, "threads": 1}))
    args = [
        "--model",
        str(d / "model"),
        "--data",
        str(d / "sft.jsonl"),
        "--out",
        str(d / "two"),
        "--params",
        str(params),
    ]
    port = free_port()
    procs = [
        subprocess.Popen(accelerate_command(Layout(2, 1), args, None, rank, "127.0.0.1", port), cwd=d)
        for rank in (0, 1)
    ]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    assert summary_of(d / "two")["world_size"] == 2
    assert loss_curve(d / "two") == one
