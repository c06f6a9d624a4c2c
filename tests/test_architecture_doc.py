"""docs/architecture.md maps every rule to its script, library function and tests; it must not drift
from rules/*.smk, scripts/ and lemma/ (a renamed rule, a moved module or a deleted test fails here)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs/architecture.md"
RULE = re.compile(r"^\s*(?:local)?rule (\w+):", re.M)
SCRIPT = re.compile(r"^\s*script:\s*\n\s*\"\.\./(scripts/\w+\.py)\"", re.M)


def workflow_rules() -> dict[str, tuple[str, str | None]]:
    """rule -> (the file defining it, the script it runs), read from the Snakefile and rules/*.smk."""
    rules = {}
    for path in [REPO / "Snakefile", *sorted((REPO / "rules").glob("*.smk"))]:
        text = path.read_text()
        starts = [(m.start(), m.group(1)) for m in RULE.finditer(text)] + [(len(text), None)]
        for (start, name), (end, _) in zip(starts, starts[1:]):
            script = SCRIPT.search(text[start:end])
            rules[name] = (str(path.relative_to(REPO)), script.group(1) if script else None)
    return rules


def table_rows() -> dict[str, list[str]]:
    """rule -> its row's cells, from the table whose header starts with `| rule | rules file |`."""
    lines = DOC.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| rule | rules file |"))
    rows = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0].strip("`")] = cells
    return rows


def code_names(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def test_the_rules_are_found():
    rules = workflow_rules()
    # the parse is not vacuous: the stages every config has, each with its script
    assert {"all", "load_problems", "sample_student", "train", "evaluate", "scores"} <= set(rules)
    assert rules["train"] == ("rules/sft.smk", "scripts/train.py")
    assert rules["all"] == ("Snakefile", None)


def test_every_rule_has_one_row_and_no_row_names_a_missing_rule():
    assert set(table_rows()) == set(workflow_rules())


def test_each_row_names_the_rules_file_and_the_script_the_rule_runs():
    rules = workflow_rules()
    for name, cells in table_rows().items():
        smk, script = rules[name]
        assert code_names(cells[1]) == [smk], name
        assert code_names(cells[2]) == ([script] if script else []), name


def test_named_library_functions_exist_and_the_script_calls_them():
    for name, cells in table_rows().items():
        names = code_names(cells[3])
        if not names:
            continue
        module, functions = names[0], names[1:]
        source = (REPO / module).read_text()  # a moved or renamed module fails here
        assert functions, name
        script = (REPO / code_names(cells[2])[0]).read_text()
        for fn in functions:
            assert re.search(rf"^(def|class) {fn}\b", source, re.M), f"{name}: {module} has no {fn}"
            assert re.search(rf"\b{fn}\b", script), f"{name}: {code_names(cells[2])[0]} does not call {fn}"


def test_named_tests_exist():
    for name, cells in table_rows().items():
        tests = code_names(cells[4])
        assert tests, name
        for path in tests:
            assert path.startswith("tests/test_") and (REPO / path).is_file(), f"{name}: {path}"


def test_every_path_named_in_the_doc_exists():
    names = re.findall(
        r"`((?:lemma|scripts|tests|rules|docs|config)/[\w/.-]+\.(?:py|smk|yaml|md|svg|dot))`", DOC.read_text()
    )
    assert names
    missing = sorted({n for n in names if not (REPO / n).exists()})
    assert not missing, missing


def rule_edges(dot: str) -> set[tuple[str, str]]:
    """(upstream rule, downstream rule) pairs of a `snakemake --rulegraph` (its edge order varies)."""
    labels = dict(re.findall(r"^\s*(\d+)\[label = \"(\w+)\"", dot, re.M))
    return {(labels[a], labels[b]) for a, b in re.findall(r"^\s*(\d+) -> (\d+)", dot, re.M)}


def test_the_committed_rule_graph_is_the_workflows():
    """docs/rulegraph.dot (rendered to docs/rulegraph.svg) is what snakemake draws for the default config."""
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--rulegraph", "--cores", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    drawn = rule_edges(proc.stdout)
    assert ("load_problems", "sample_student") in drawn and ("scores", "all") in drawn
    assert rule_edges((REPO / "docs/rulegraph.dot").read_text()) == drawn, (
        "docs/rulegraph.dot is out of date; regenerate it and the SVG (docs/architecture.md, 'The rule graph')"
    )


def test_the_library_root_and_file_sizes_are_what_the_page_says():
    """lemma/ has packages and only the root modules the page names; no file is over ~400 lines
    unless the page says why (docs/architecture.md, "The library's layout")."""
    page = (REPO / "docs/architecture.md").read_text()
    layout = page[page.index("## The library's layout") : page.index("## The rule graph")]
    root = sorted(p.name for p in (REPO / "lemma").glob("*.py") if p.name != "__init__.py")
    assert root == ["config.py", "config_doc.py"], root
    assert all(f"`{name}`" in layout for name in root)
    for package in sorted(p.parent for p in (REPO / "lemma").glob("*/__init__.py")):
        assert f"`{package.name}/`" in layout, f"lemma/{package.name}/ is not on the architecture page"
        first = (package / "__init__.py").read_text().lstrip()
        assert first.startswith('"""'), f"lemma/{package.name}/__init__.py opens without a docstring"
    for f in (REPO / "lemma").rglob("*.py"):
        n = len(f.read_text().splitlines())
        rel = f.relative_to(REPO / "lemma").as_posix()
        assert n <= 410 or f"`{rel}`" in layout, f"lemma/{rel} has {n} lines and the page does not say why"
