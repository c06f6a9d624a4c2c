"""Answers that come in several parts: a run of boxes or math spans, a list of solutions, a set,
named values (``k = 4, n = 2``; ``p=3, q=2 and p=5, q=3``), ``\\pm``.

Two jobs, both plain string work (no sympy, no eval):

- `join_run` (extraction): competition solutions box each answer (``$\\boxed{1}$ and
  $\\boxed{-2}$``, one display line per root). The boxes of one statement are joined into one
  answer when only connecting text stands between them: math delimiters, "and", "or", a comma,
  an ``x =`` before the next value, at most one other word (``\\boxed{1} papers and \\boxed{2}
  bins``). Any other text ends the run: ``\\boxed{1} then \\boxed{2}`` answers 2.
- `answer_items` (comparison): the items an answer gives, each in a canonical form, and whether
  their order matters. A top-level list or a set literal is unordered (a set of solutions); a
  tuple ``(3, 2)`` is one item (math-verify compares its parts in order). Named values become one
  item per solution: a group of names becomes a tuple in the order its first group names them, a
  single name repeated (``x = 1 or x = -2``) a set of values.
"""

from __future__ import annotations

import re

from lemma.grading.clean import acceptable, clean_answer
from lemma.grading.normalize import ASSIGN, normalize, split_items
from lemma.grading.spans import Answer

# Between two parts of one answer: delimiters, spacing commands, punctuation.
_DELIMITERS = re.compile(r"\\[()\[\]]|\$")
_GAP_NOISE = re.compile(r"\\q?quad|\\[,;:! ]|\\text\s*\{\s*([^{}]*)\}|[,;&]|\\\\")
# "x =", "x_1 =", "(x, y) =": the name of the value that follows.
_NAME_EQ = re.compile(r"(?:\([A-Za-z](?:\s*,\s*[A-Za-z])*\)|[A-Za-z](?:_\{?\w+\}?)?)\s*=\s*$")
_CONNECTORS = {"and", "or", "as", "well"}
_WORD = re.compile(r"[A-Za-z]+")


def connects(gap: str) -> bool:
    """Whether `gap`, the text between two parts, joins them into one answer."""
    if "\n\n\n" in gap or len(gap) > 60:
        return False
    rest = _NAME_EQ.sub("", _DELIMITERS.sub(" ", gap).rstrip())
    rest = _GAP_NOISE.sub(lambda m: f" {m.group(1) or ''} ", rest).strip()
    if re.search(r"[^\sA-Za-z]", rest):
        return False  # a digit, a full stop or any other sign: more than a connector
    words = [w.lower() for w in _WORD.findall(rest)]
    others = [w for w in words if w not in _CONNECTORS]
    if not words:
        return True
    return len(others) <= 1 and len(others) < len(words)


def join_run(text: str, spans: list[tuple[int, int, int]], last: int) -> list[tuple[int, int, int]]:
    """The run of `spans` (start, answer_start, answer_end; in text order, each ending where its
    closing delimiter begins) that ends at index `last`: earlier spans are added while `connects`
    accepts the text between them."""
    run = [spans[last]]
    for k in range(last - 1, -1, -1):
        end = spans[k][2]
        prev_end = end + (2 if text[end : end + 2] in ("\\]", "\\)", "$$") else 1)  # after its closer
        if prev_end > run[0][0] or not connects(text[prev_end : run[0][0]]):  # nested, or words between
            break
        run.insert(0, spans[k])
    return run


def joined_answer(text: str, spans: list[tuple[int, int, int]], rule: str) -> Answer | None:
    """The last acceptable span of `spans` (text order) with the spans that run into it:
    ``$\\boxed{1}$ and $\\boxed{-2}$`` answers "1, -2" (each part cleaned, repeats dropped)."""
    for last in range(len(spans) - 1, -1, -1):
        if not acceptable(clean_answer(text[spans[last][1] : spans[last][2]])):
            continue
        run = join_run(text, spans, last)
        parts: list[str] = []
        for _, a, b in run:
            part = clean_answer(text[a:b])
            if acceptable(part) and part not in parts:
                parts.append(part)
        return Answer(", ".join(parts), run[0][0], run[0][1], run[-1][2], rule)
    return None


# ---------------------------------------------------------------------------------------------
# Items of an answer

_TUPLE_ASSIGN = re.compile(r"^\s*\((?P<names>[A-Za-z](?:\s*,\s*[A-Za-z])+)\)\s*=\s*\((?P<values>[^=]+)\)\s*$")
_SET = re.compile(r"^\\\{(?P<inner>.*)\\\}$|^\{(?P<inner2>[^{}]*,[^{}]*)\}$")
_PM = re.compile(r"^(?:\\pm|±)\s*(?P<value>.+)$")
_LEADING_CONNECTOR = re.compile(r"^(?:and|or)\s+", re.IGNORECASE)
_RESPECTIVELY = re.compile(r",?\s+respectively$", re.IGNORECASE)


def _named(item: str) -> list[tuple[str, str]] | None:
    """[(name, value), ...] when `item` names its values: ``k = 4``, ``(p, q) = (3, 2)``,
    ``(x=1, y=2)``; else None."""
    m = _TUPLE_ASSIGN.match(item)
    if m:
        names = [n.strip() for n in m.group("names").split(",")]
        values = split_items(m.group("values"))
        return list(zip(names, values)) if len(values) == len(names) else None
    if item.startswith("(") and item.endswith(")") and "=" in item:
        parts = split_items(item[1:-1])
        pairs = [ASSIGN.match(p) for p in parts]
        if len(parts) > 1 and all(pairs):
            return [(p.group("name"), p.group("rhs")) for p in pairs]
        return None
    m = ASSIGN.match(item)
    return [(m.group("name"), m.group("rhs"))] if m else None


def _groups(named: list[list[tuple[str, str]]]) -> list[dict[str, str]]:
    """Named values grouped into solutions: a name seen again in the current group starts the
    next solution (``p=3, q=2 and p=5, q=3`` is two)."""
    groups: list[dict[str, str]] = []
    for pairs in named:
        for name, value in pairs:
            if not groups or name in groups[-1] or (len(pairs) > 1 and pairs[0][0] == name):
                groups.append({})
            groups[-1][name] = value
    return groups


def raw_items(answer: str) -> list[str]:
    """The top-level parts of `answer` as written: a list, a set literal's members, ``\\pm``'s two
    values."""
    s = _RESPECTIVELY.sub("", normalize(answer, keep_name=True).text)
    m = _SET.match(s)
    if m:
        s = m.group("inner") if m.group("inner") is not None else m.group("inner2")
    items = []
    for part in split_items(s):
        part = _LEADING_CONNECTOR.sub("", part.strip())
        name_value = ASSIGN.match(part)
        value = name_value.group("rhs") if name_value else part
        pm = _PM.match(value.strip())
        if pm and not re.search(r"\\pm|±", pm.group("value")):
            prefix = f"{name_value.group('name')} = " if name_value else ""
            items += [f"{prefix}{pm.group('value')}", f"{prefix}-{pm.group('value')}"]
        else:
            items.append(part)
    return [i for i in items if i]


def answer_items(answer: str, order: list[str] | None = None) -> tuple[list[str], list[str] | None]:
    """(items, names): the canonical items of `answer` (each through `normalize`) and, when the
    answer names its values, the names' order its tuples use (pass the reference's as `order` to
    read a completion's tuples in the same order)."""
    items = raw_items(answer)
    named = [_named(i) for i in items]
    if not items or not all(named):
        return [normalize(i).text for i in items] or [normalize(answer).text], None
    groups = _groups(named)  # type: ignore[arg-type]
    names = order or list(groups[0])
    if all(len(g) == 1 for g in groups) and len({next(iter(g)) for g in groups}) == 1:
        return [normalize(next(iter(g.values()))).text for g in groups], None  # x = 1 or x = -2
    out = []
    for g in groups:
        if set(g) != set(names):
            return [normalize(i).text for i in items], None  # names that do not line up: compare as written
        values = [normalize(g[n]).text for n in names]
        out.append(values[0] if len(values) == 1 else "(" + ", ".join(values) + ")")
    return out, names
