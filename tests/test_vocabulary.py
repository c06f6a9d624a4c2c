"""The config schema's enums are the vocabularies the code defines (lemma.text.vocabulary and the
modules that own a vocabulary): a schema cannot import Python, so this test keeps them equal."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from lemma.grading.styles import STYLES
from lemma.text import vocabulary
from lemma.text.prompting import TEMPLATE_NAMES

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = yaml.safe_load((ROOT / "lemma" / "schemas" / "config.schema.yaml").read_text())

# vocabulary -> its names, in the code's order
VOCABULARIES = {
    "strategies": list(vocabulary.STRATEGIES),
    "teacher stages": list(vocabulary.TEACHER_STAGES),
    "world splits": list(vocabulary.WORLD_SPLITS),
    "answer styles": list(STYLES),
    "prompt templates": list(TEMPLATE_NAMES),
}


def _enums(node, path="schema"):
    """(path, enum, default) of every enum in the schema; the default of an array of enums is the
    array's."""
    if isinstance(node, dict):
        if "enum" in node:
            yield path, node["enum"], node.get("default")
        items = node.get("items")
        if isinstance(items, dict) and "enum" in items:
            yield f"{path}[]", items["enum"], node.get("default")
        for key, value in node.items():
            if key != "items" or not (isinstance(value, dict) and "enum" in value):
                yield from _enums(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _enums(value, f"{path}[{i}]")


def test_every_schema_enum_of_a_vocabulary_is_that_vocabulary():
    checked = {name: 0 for name in VOCABULARIES}
    for path, enum, default in _enums(SCHEMA):
        names = [e for e in enum if e is not None]
        # the vocabulary it shares the most names with ("world" is a style and a template), the
        # smaller one on a tie (the strategies are also teacher stages)
        overlap, _, name = max(
            (len(set(names) & set(words)), -len(words), name) for name, words in VOCABULARIES.items()
        )
        if overlap < 2:
            continue
        words = VOCABULARIES[name]
        assert names == words, f"{path}: enum {names} is not the {name} {words}"
        defaults = default if isinstance(default, list) else [] if default is None else [default]
        assert set(defaults) <= set(words), f"{path}: default {default} outside the {name}"
        checked[name] += 1
    assert all(checked.values()), f"no schema enum found for {[n for n, c in checked.items() if not c]}"


def test_the_strategy_enums_default_to_every_strategy():
    defaults = [d for _, enum, d in _enums(SCHEMA) if set(enum) == set(vocabulary.STRATEGIES)]
    assert defaults and all(d == list(vocabulary.STRATEGIES) for d in defaults)


def test_the_workflow_rules_take_the_vocabulary_from_lemma():
    # the rules import the vocabulary instead of spelling it out again
    rules = "\n".join(p.read_text() for p in sorted((ROOT / "rules").glob("*.smk")))
    for word in (*vocabulary.STRATEGIES, *vocabulary.CUTS):
        assert not re.search(rf"[\"']{word}[\"']", rules), (
            f"rules/ spell out {word!r}; import it from lemma.text.vocabulary"
        )


def test_cut_of_a_variant():
    assert vocabulary.cut_for(True) == vocabulary.FIRST_ERROR and vocabulary.cut_for(False) == vocabulary.WHOLE
    assert vocabulary.TEACHER_STAGES[3:5] == vocabulary.STRATEGIES


def test_no_error_has_one_reader_for_both_teachers():
    from lemma.text.vocabulary import JUDGED_CORRECT, NOT_WRONG, says_no_error

    assert says_no_error(NOT_WRONG) and says_no_error(f"locate:{JUDGED_CORRECT}")
    assert not says_no_error(None) and not says_no_error("") and not says_no_error("locate:unparsed")
    assert not says_no_error(JUDGED_CORRECT)  # always with its stage
