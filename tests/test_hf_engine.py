"""HFEngine on a real (tiny, randomly initialised) Llama with a locally trained BPE tokenizer."""

from __future__ import annotations

import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from lemma.engines.base import Request, SamplingParams
from lemma.engines.factory import EngineUnavailable, build_engine, check_engine_config
from lemma.engines.hf import HFEngine, cut_at_stop, render_plain_chat, render_request

CORPUS = [
    "Question: Tom has 12 apples and buys 7 more. How many apples does he have?",
    "Answer: 12 + 7 = 19. The answer is: 19",
    "Question: A box holds 6 pens. How many pens are in 4 boxes?",
    "Answer: 6 * 4 = 24. The answer is: 24",
    "System: You are careful. User: Check this. Assistant: Wait, let me look again.",
] * 20

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def _save_tiny_model(path, chat_template=None):
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    # Metaspace (not byte-level) so that any token sequence decodes to clean text.
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    trainer = trainers.BpeTrainer(vocab_size=200, special_tokens=["<pad>", "<s>", "</s>", "<unk>"])
    tok.train_from_iterator(CORPUS, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>"
    )
    if chat_template:
        fast.chat_template = chat_template
    fast.save_pretrained(path)

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(fast),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        tie_word_embeddings=False,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
    )
    model = LlamaForCausalLM(config)
    with torch.no_grad():
        # A random model would sometimes end at once; a zero eos row gives eos a middling logit,
        # so completions run long enough to test stop strings and lengths.
        model.lm_head.weight[fast.eos_token_id] = 0.0
    model.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return str(_save_tiny_model(tmp_path_factory.mktemp("tiny")))


@pytest.fixture(scope="module")
def engine(model_dir):
    return HFEngine(model_dir, device="cpu", batch_size=4, threads=1)


PROMPTS = [
    "Question: Tom has 12 apples.",
    "Q",
    "Question: A box holds 6 pens. How many pens are in 4 boxes? Answer:",
    "Answer: 6",
    "Question: Tom buys 7 more apples and 6 pens. How many",
]


def test_n_samples_and_token_counts(engine):
    params = SamplingParams(temperature=1.0, max_new_tokens=12, n=3, seed=1)
    out = engine.generate([Request(prompt=p, params=params) for p in PROMPTS[:2]])
    assert [len(c) for c in out] == [3, 3]
    for prompt, completions in zip(PROMPTS, out):
        n_prompt = len(engine.tokenizer(prompt)["input_ids"])
        for c in completions:
            assert c.prompt_tokens == n_prompt
            assert 1 <= c.completion_tokens <= 12
            assert c.finish_reason in ("stop", "length")
            assert c.finish_reason == "length" or c.completion_tokens < 12 or c.text == ""
    # three sampled completions of one prompt are not all the same
    assert len({c.text for c in out[0]}) > 1


def test_greedy_is_deterministic_and_n_copies(engine):
    params = SamplingParams(temperature=0.0, max_new_tokens=16, n=2)
    requests = [Request(prompt=p, params=params) for p in PROMPTS]
    first = engine.generate(requests)
    second = engine.generate(requests)
    assert [[c.text for c in cs] for cs in first] == [[c.text for c in cs] for cs in second]
    assert all(cs[0].text == cs[1].text for cs in first)
    assert all(cs[0].completion_tokens == 16 and cs[0].finish_reason == "length" for cs in first)


def test_seeded_sampling_is_reproducible(engine):
    def run(seed):
        params = SamplingParams(temperature=1.0, top_p=0.95, max_new_tokens=16, n=2, seed=seed)
        out = engine.generate([Request(prompt=p, params=params) for p in PROMPTS])
        return [[c.text for c in cs] for cs in out]

    assert run(5) == run(5)
    assert run(5) != run(6)


def test_stop_string_cuts_text(engine):
    free = engine.generate([Request(prompt=PROMPTS[0], params=SamplingParams(temperature=0, max_new_tokens=24))])
    text = free[0][0].text
    assert len(text) >= 8, text
    stop = text[4:7]
    expected = text[: text.find(stop)]
    params = SamplingParams(temperature=0, max_new_tokens=24, stop=(stop, "never-seen-stop"))
    cut = engine.generate([Request(prompt=PROMPTS[0], params=params)])[0][0]
    assert cut.text == expected
    assert cut.finish_reason == "stop"
    # generation stopped early instead of running to max_new_tokens
    assert cut.completion_tokens < free[0][0].completion_tokens


def test_order_preserved_with_mixed_lengths(engine, model_dir):
    params = SamplingParams(temperature=0.0, max_new_tokens=10)
    requests = [Request(prompt=p, params=params) for p in PROMPTS]
    batched = engine.generate(requests)  # batch_size 4: sorted, padded, two batches
    for request, completions in zip(requests, batched):
        assert completions[0].prompt_tokens == len(engine.tokenizer(request.prompt)["input_ids"])
        alone = engine.generate([request])[0][0]
        assert completions[0].text == alone.text


def test_mixed_params_in_one_call(engine):
    greedy = SamplingParams(temperature=0.0, max_new_tokens=8)
    sampled = SamplingParams(temperature=1.0, max_new_tokens=5, n=2, seed=3)
    out = engine.generate([Request(prompt=PROMPTS[0], params=greedy), Request(prompt=PROMPTS[1], params=sampled)])
    assert [len(c) for c in out] == [1, 2]
    assert out[0][0].completion_tokens <= 8
    assert all(c.completion_tokens <= 5 for c in out[1])


def test_chat_template_used_when_present(tmp_path):
    chat_dir = _save_tiny_model(tmp_path / "chat", chat_template=CHAT_TEMPLATE)
    engine = HFEngine(str(chat_dir), device="cpu", threads=1)
    messages = ({"role": "system", "content": "Be careful."}, {"role": "user", "content": "Add 2 and 3."})
    request = Request(messages=messages, params=SamplingParams(temperature=0, max_new_tokens=4))
    text, special = render_request(engine.tokenizer, request)
    assert text == "<|system|>Be careful.\n<|user|>Add 2 and 3.\n<|assistant|>"
    assert special is False
    out = engine.generate([request])[0][0]
    assert out.prompt_tokens == len(engine.tokenizer(text, add_special_tokens=False)["input_ids"])


def test_plain_chat_rendering_without_template(engine):
    messages = ({"role": "user", "content": "Add 2 and 3."},)
    text, _ = render_request(engine.tokenizer, Request(messages=messages))
    assert text == render_plain_chat(messages) == "User: Add 2 and 3.\nAssistant:"


def test_cut_at_stop_takes_earliest():
    assert cut_at_stop("a b\nQuestion: c ###", ("###", "\nQuestion:")) == ("a b", True)
    assert cut_at_stop("abc", ("x",)) == ("abc", False)


def test_factory_builds_hf_and_checks_dirs(model_dir, tmp_path):
    engine = build_engine({"engine": "hf", "model": model_dir, "batch_size": 2, "threads": 1, "device": "cpu"})
    assert isinstance(engine, HFEngine) and engine.batch_size == 2
    assert check_engine_config({"engine": "hf", "model": "builtin"}) == []
    assert "does not exist" in check_engine_config({"engine": "hf", "model": str(tmp_path / "nope")})[0]
    assert "no config.json" in check_engine_config({"engine": "hf", "model": str(tmp_path)})[0]
    assert "unknown engine" in check_engine_config({"engine": "tgi", "model": model_dir})[0]
    with pytest.raises(EngineUnavailable, match="no config.json"):
        build_engine({"engine": "hf", "model": str(tmp_path)})


def test_checkpoint_sampling_defaults_are_ignored(engine, model_dir, tmp_path):
    # A checkpoint's generation_config.json (temperature, repetition_penalty, ...) must not change
    # what a request asks for: SamplingParams alone decide, as they key the request cache.
    import shutil

    from transformers import GenerationConfig

    shipped = tmp_path / "shipped"
    shutil.copytree(model_dir, shipped)
    GenerationConfig(
        do_sample=True, temperature=0.3, top_k=5, repetition_penalty=1.8, eos_token_id=engine.eos_ids[0]
    ).save_pretrained(shipped)
    other = HFEngine(str(shipped), device="cpu", threads=1)
    params = SamplingParams(temperature=0.0, max_new_tokens=16)
    requests = [Request(prompt=p, params=params) for p in PROMPTS[:3]]
    assert [c[0].text for c in other.generate(requests)] == [c[0].text for c in engine.generate(requests)]


def test_progress_lines_when_not_a_terminal(engine, capsys):
    params = SamplingParams(temperature=0.0, max_new_tokens=2)
    engine.generate([Request(prompt=p, params=params) for p in PROMPTS], progress="sample")
    lines = capsys.readouterr().err.strip().splitlines()
    assert [line.split(" (")[0] for line in lines] == ["sample: batch 1/2", "sample: batch 2/2"]
    assert "\r" not in "".join(lines)
