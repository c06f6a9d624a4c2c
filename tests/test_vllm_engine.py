"""The vllm engine where vLLM is absent (this machine): a clear stop that names envs/vllm.yaml.

Generation itself needs a GPU and vLLM; the parameter mapping is tested here without either.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lemma.engines.base import SamplingParams
from lemma.engines.factory import EngineUnavailable, build_engine, check_engine_config
from lemma.engines.vllm_engine import VLLMEngine, vllm_available, vllm_sampling_kwargs

needs_no_vllm = pytest.mark.skipif(vllm_available(), reason="vLLM is installed here")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def model_dir(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    return str(tmp_path)


@needs_no_vllm
def test_check_engine_config_names_the_env_file(model_dir):
    problems = check_engine_config({"engine": "vllm", "model": model_dir})
    assert len(problems) == 1
    assert "envs/vllm.yaml" in problems[0] and "vLLM" in problems[0]


@needs_no_vllm
def test_build_engine_and_constructor_stop_clearly(model_dir):
    with pytest.raises(EngineUnavailable, match=r"envs/vllm\.yaml"):
        build_engine({"engine": "vllm", "model": model_dir, "tensor_parallel_size": 1})
    with pytest.raises(EngineUnavailable, match=r"GPU-only and not installed"):
        VLLMEngine(model_dir)


def test_vllm_config_checks_model_dir(tmp_path):
    problems = check_engine_config({"engine": "vllm", "model": str(tmp_path / "missing")})
    assert any("does not exist" in p for p in problems)


def test_sampling_params_mapping():
    sampled = vllm_sampling_kwargs(SamplingParams(temperature=0.7, top_p=0.9, max_new_tokens=300, n=4, stop=("###",), seed=9))
    assert sampled == {"n": 4, "temperature": 0.7, "top_p": 0.9, "max_tokens": 300, "stop": ["###"], "seed": 9}
    greedy = vllm_sampling_kwargs(SamplingParams(temperature=0.0, top_p=0.5, n=3))
    assert greedy["n"] == 1 and greedy["temperature"] == 0.0 and greedy["top_p"] == 1.0
    assert greedy["stop"] is None


def test_env_file_pins_vllm():
    env = yaml.safe_load((REPO / "envs" / "vllm.yaml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert any(line.startswith("vllm==") for line in pip)
