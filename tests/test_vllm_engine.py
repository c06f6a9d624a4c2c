"""The vllm engine.

Where vLLM is absent (the project's main environment): a clear stop that names the environments
that have it, and the parameter mapping. Where it is present (the CPU environment made by
envs/setup-vllm.sh; marker `vllm`): real generation with the built-in student's architecture and
with SmolLM2-135M-Instruct, compared with the `hf` engine, and real Snakemake rules.
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
    with pytest.raises(EngineUnavailable, match=r"envs/setup-vllm\.sh"):
        VLLMEngine(model_dir)


def test_vllm_config_checks_model_dir(tmp_path):
    problems = check_engine_config({"engine": "vllm", "model": str(tmp_path / "missing")})
    assert any("does not exist" in p for p in problems)


def test_sampling_params_mapping():
    sampled = vllm_sampling_kwargs(
        SamplingParams(temperature=0.7, top_p=0.9, max_new_tokens=300, n=4, stop=("###",), seed=9)
    )
    assert sampled == {"n": 4, "temperature": 0.7, "top_p": 0.9, "max_tokens": 300, "stop": ["###"], "seed": 9}
    greedy = vllm_sampling_kwargs(SamplingParams(temperature=0.0, top_p=0.5, n=3))
    assert greedy["n"] == 1 and greedy["temperature"] == 0.0 and greedy["top_p"] == 1.0
    assert greedy["stop"] is None


def test_env_file_pins_vllm():
    env = yaml.safe_load((REPO / "envs" / "vllm.yaml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert any(line.startswith("vllm==") for line in pip)


# ---------------------------------------------------------------------------------------------
# Real generation: these run where vLLM imports (the environment envs/setup-vllm.sh makes, on
# CPU here; `.venv-vllm/bin/python -m pytest -m vllm`). Each engine start costs ~20-60 s on 2 cores,
# so engines are built once per module.

from lemma.engines.base import Request  # noqa: E402
from tests.workflow_helpers import make_workdir, snakemake  # noqa: E402

needs_vllm = pytest.mark.skipif(
    not vllm_available(),
    reason="vLLM is not installed in this Python; make its env with envs/setup-vllm.sh and run "
    ".venv-vllm/bin/python -m pytest -m vllm",
)
real_vllm = [pytest.mark.vllm, needs_vllm]

WORLD_PROMPTS = [
    "Question: Ann has 12 apples and buys 7 more. How many apples does she have?\nAnswer:",
    "Question: A box holds 6 pens. How many pens are in 4 boxes?\nAnswer:",
    "Question: Ben had 40 stamps and gave 15 to Cara. How many stamps does Ben have left?\nAnswer:",
    "Q",
]
MATH_CHATS = [
    [{"role": "user", "content": "What is 7 + 8? End with 'The answer is: N'."}],
    [
        {"role": "system", "content": "You are a careful math tutor."},
        {"role": "user", "content": "Tom reads 12 pages every day. How many pages does he read in 3 weeks?"},
    ],
]


@pytest.fixture(scope="module")
def tiny_student(tmp_path_factory):
    """The built-in student's architecture (a Llama, hidden 128, world tokenizer), randomly
    initialised: what `pretrain_student` starts from, without its minutes of training."""
    from lemma.world.problems import generate_world
    from lemma.world.student import build_student
    from lemma.world.tokenizer import train_tokenizer

    out = tmp_path_factory.mktemp("tiny_student")
    rows = generate_world(seed=7, n_train=300, n_test=10, n_test_ood=10)["train"]
    tokenizer = train_tokenizer([r["question"] + "\n" + r["solution"] for r in rows], str(out))
    model = build_student(tokenizer, hidden=128, layers=2, heads=4, seed=0)
    model.save_pretrained(out)
    return str(out)


def _greedy(max_new_tokens=24, **kw):
    return SamplingParams(temperature=0.0, max_new_tokens=max_new_tokens, **kw)


def _texts(results):
    return [[c.text for c in completions] for completions in results]


@pytest.fixture(scope="module")
def tiny_vllm(tiny_student):
    engine = VLLMEngine(tiny_student, dtype="float32", seed=0)
    yield engine
    engine.close()


@pytest.mark.vllm
@needs_vllm
def test_tiny_student_greedy_equals_hf(tiny_student, tiny_vllm):
    from lemma.engines.hf import HFEngine

    requests = [Request(prompt=p, params=_greedy(n=2)) for p in WORLD_PROMPTS]
    ours = tiny_vllm.generate(requests)
    hf = HFEngine(tiny_student, device="cpu", dtype="float32", batch_size=4).generate(requests)
    assert _texts(ours) == _texts(hf)
    for completions in ours:
        assert len(completions) == 2 and all(c.completion_tokens > 0 for c in completions)
        assert completions[0].finish_reason in ("stop", "length")


@pytest.mark.vllm
@needs_vllm
def test_sampling_n_seeds_and_stop_strings(tiny_vllm):
    prompt = WORLD_PROMPTS[0]
    params = SamplingParams(temperature=1.0, top_p=1.0, max_new_tokens=24, n=4, seed=11)
    first, again, other = (
        tiny_vllm.generate([Request(prompt=prompt, params=p)])[0]
        for p in (params, params, SamplingParams(**{**params.__dict__, "seed": 12}))
    )
    texts = [c.text for c in first]
    assert len(texts) == 4 and len(set(texts)) > 1  # n distinct samples, not one copied
    assert [c.text for c in again] == texts  # a request's seed fixes its samples
    assert [c.text for c in other] != texts
    # The seed is per request: a request's samples do not depend on what else is in the call.
    mixed = tiny_vllm.generate([Request(prompt=WORLD_PROMPTS[1], params=params), Request(prompt=prompt, params=params)])
    assert [c.text for c in mixed[1]] == texts

    # Stop strings: cut a greedy continuation at a piece of its own text.
    full = tiny_vllm.generate([Request(prompt=prompt, params=_greedy(32))])[0][0].text
    stop = full[len(full) // 2 : len(full) // 2 + 3]
    cut = tiny_vllm.generate([Request(prompt=prompt, params=_greedy(32, stop=(stop,)))])[0][0]
    assert stop and cut.finish_reason == "stop"
    assert cut.text == full[: full.index(stop)]


@pytest.mark.vllm
@needs_vllm
def test_smollm2_greedy_equals_hf(smollm2_dir):
    """SmolLM2-135M-Instruct (real pretrained weights, chat template) in float32 through both engines:
    the same prompts give the same greedy text, chats rendered with the model's template."""
    from lemma.engines.hf import HFEngine

    requests = [Request(messages=tuple(m), params=_greedy(40)) for m in MATH_CHATS]
    requests.append(Request(prompt="Question: What is 9 - 4?\nAnswer:", params=_greedy(40, stop=("\n\n",))))
    engine = VLLMEngine(smollm2_dir, dtype="float32", seed=0)
    try:
        ours = engine.generate(requests)
    finally:
        engine.close()
    hf = HFEngine(smollm2_dir, device="cpu", dtype="float32", batch_size=4).generate(requests)
    assert _texts(ours) == _texts(hf)
    assert all(c.text.strip() for completions in ours for c in completions)  # it says something
    assert [c.finish_reason for r in ours for c in r] == [c.finish_reason for r in hf for c in r]


@pytest.mark.vllm
@needs_vllm
def test_vllm_rules_sample_and_evaluate_in_snakemake(tmp_path):
    """Issue 11, item 2: inside a Snakemake `script:` rule vLLM's spawned engine process re-ran the
    rule's script and died (`NameError: name 'snakemake' is not defined`). The built-in world with
    `engine: vllm` now samples and evaluates through real rules."""
    import yaml

    wd = make_workdir(tmp_path)
    cfg_path = wd / "config/config.yaml"
    cfg = yaml.safe_load(cfg_path.read_text())
    cfg["student"] = {"engine": "vllm", "model": "builtin", "dtype": "float32", "threads": 2}
    cfg["pretrain"]["max_steps"] = 60
    cfg["sampling"].update(shards=1, max_problems=16)
    cfg["world"].update(n_test=12)
    cfg_path.write_text(yaml.safe_dump(cfg))
    targets = ["results/samples/train/0.parquet", "results/eval/sft/test.parquet"]
    snakemake(wd, *targets, timeout=1500)

    import polars as pl

    samples = pl.read_parquet(wd / targets[0])
    assert samples.height == 16 * cfg["sampling"]["n"]
    assert samples["completion"].str.len_chars().max() > 0
    assert set(samples["finish_reason"]) <= {"stop", "length"}
    evaluated = pl.read_parquet(wd / targets[1])
    assert evaluated.height == 12
    log = (wd / "logs/sample_student/train/0.log").read_text()
    assert "NameError" not in log


def test_cpu_settings_turn_chunked_prefill_off_and_fix_the_kv_cache(tmp_path, monkeypatch):
    from lemma.engines.vllm_engine import CPU_KV_CACHE_BYTES, cpu_engine_kwargs

    monkeypatch.delenv("VLLM_CPU_KVCACHE_SPACE", raising=False)
    (tmp_path / "config.json").write_text('{"max_position_embeddings": 131072}')
    kw = cpu_engine_kwargs(str(tmp_path), None)
    assert kw["enable_chunked_prefill"] is False
    assert kw["max_model_len"] == 8192 and kw["max_num_batched_tokens"] >= kw["max_model_len"]
    assert kw["kv_cache_memory_bytes"] == CPU_KV_CACHE_BYTES
    assert cpu_engine_kwargs(str(tmp_path), 512)["max_model_len"] == 512
    monkeypatch.setenv("VLLM_CPU_KVCACHE_SPACE", "3")  # vLLM's own knob wins
    assert "kv_cache_memory_bytes" not in cpu_engine_kwargs(str(tmp_path), None)
