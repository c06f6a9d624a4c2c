"""The `vllm serve` launcher for the CPU build (lemma/serving/vllm_serve.py): its options and its
metadata alias. The server itself is started by tests/test_real_llm.py (marker realllm)."""

from __future__ import annotations

import importlib.metadata

from lemma.serving import vllm_serve


def test_cpu_defaults_are_added_unless_given(monkeypatch):
    monkeypatch.delenv("VLLM_CPU_KVCACHE_SPACE", raising=False)
    args = vllm_serve.with_cpu_defaults(["models/m", "--port", "8011"])
    assert args[:3] == ["models/m", "--port", "8011"]
    assert args[args.index("--host") + 1] == "127.0.0.1"
    assert "--no-enable-chunked-prefill" in args and "--enforce-eager" in args
    assert args[args.index("--max-num-batched-tokens") + 1] == "8192"
    assert int(args[args.index("--kv-cache-memory-bytes") + 1]) == 2 << 30
    monkeypatch.setenv("VLLM_CPU_KVCACHE_SPACE", "4")  # vLLM's own variable wins
    assert "--kv-cache-memory-bytes" not in vllm_serve.with_cpu_defaults(["m"])


def test_user_options_win_in_either_spelling():
    given = [
        "m",
        "--host=0.0.0.0",
        "--enable-chunked-prefill",
        "--max-num-batched-tokens",
        "2048",
        "--no-enforce-eager",
        "--gpu-memory-utilization",
        "0.3",
    ]
    assert vllm_serve.with_cpu_defaults(given) == given


def test_metadata_alias_answers_only_for_vllm(monkeypatch):
    monkeypatch.setattr(importlib.metadata, "version", importlib.metadata.version)  # restored after
    vllm_serve._alias_vllm_metadata("0.32.0+cpu")
    assert importlib.metadata.version("vllm") == "0.32.0+cpu"
    assert importlib.metadata.version("polars") == importlib.metadata.distribution("polars").version
