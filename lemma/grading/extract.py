"""Finding the final answer in a completion: the project's one place for it.

Public API:

    find_answer(text, style="gsm8k", allow_last_number=None, require_marker=False) -> Answer | None
        the final answer with where it sits: `Answer.text` (cleaned), `Answer.start` (where the
        statement begins: its marker, e.g. the "answer" of "The answer is 5"), `Answer.answer_start`
        and `Answer.end` (the raw answer text, ``text[answer_start:end]``) and `Answer.rule`;
    extract_answer(text, style="gsm8k", allow_last_number=None) -> str | None
        just the cleaned answer text;
    reference_answer(gold) -> str
        the answer inside a reference (a full GSM8K/MATH solution or a bare answer);
    find_marked(text, rules=MARKED_RULES) -> Answer | None
        only the explicit statements below (no conclusion, no last number), optionally only some
        rules (the LLM teacher reads ``answer_is`` alone);
    last_boxed(text) -> str | None  (lemma.grading.spans, with the other scans: lines, sentences, braces)
        the content of the last well-formed ``\\boxed{}`` (the MATH loader's reference answer).

An extracted answer is made plain by lemma.grading.clean. The project's own statement ``The answer
is: X`` (the paper's format, which every generated, taught and trained solution ends with) is
written and read strictly by lemma.grading.statement (`answer_statement`,
`answer_of_statement_line`, `has_answer_statement`, `without_answer_lines`). Nothing else in the
project parses an answer statement.

Statements of an answer (each a `rule` name), as real models write them:

- ``answer_is``: "... answer is X" in any wording: the paper's ``The answer is: X``, ``The answer
  is 5``, ``Therefore, the answer is 12.``, ``The final answer is $\\boxed{3}$``, Minerva's
  ``Final Answer: The final answer is 3. I hope it is correct.``. X runs to the end of its
  sentence (a full stop followed by a space or the line's end, outside ``$...$`` and braces) or
  line; when the line ends right after the marker, X is the next non-blank line.
- ``answer_label``: a line that labels its answer: ``Answer: 15``, ``**Answer:** 4``,
  ``**Final answer:** 21``, ``**Answer: 12**``, or a heading ``### Final Answer`` / ``#### Answer``
  with the answer on the next non-blank line. X is the rest of the line.
- ``hashes``: GSM8K's ``#### X`` (rest of the line). A markdown heading is not an answer: when
  the text after ``####`` starts with a word (``#### Question 2``, ``#### Step 3``), it is skipped.
- ``boxed``: ``\\boxed{...}`` / ``\\fbox{...}``, braces matched so nested groups stay whole; the
  boxes of one statement joined by connecting text only are one answer (``$\\boxed{1}$ and
  $\\boxed{-2}$`` is "1, -2"; see lemma.grading.several.join_run).
- ``conclusion``: only when none of the above is found, and not in the built-in ``world`` style:
  the last concluding sentence that states a value (``So, the GCD is 12*12 = 144.``,
  ``Therefore, the number left is 12.``: the text after its first "is"/"are"/"equals", a count
  before its noun ``there are 9 divisors of 36``, or the one number of a sentence without a verb
  ``In conclusion, Emma earns $450.``), or a last
  line that is a bare calculation (``18 / 24 = 0.75``; a restatement ``\\sqrt{72} = \\sqrt{72}``
  is not an answer).
- ``bare``: not in the ``world`` style, when nothing above was found: a completion that is only a
  short value (one line of at most MAX_BARE_CHARS: ``-5``, ``7,425,000``, ``$E$``, ``28
  percent``) is its own answer; words outside math mean prose, which this rule does not read.
- ``last_math``: in the ``math`` style only, when nothing above was found: the last displayed or
  inline math expression of the last paragraph that states a value (``\\[ 9 \\]``, ``Thus $x \\le 2$ is our answer.``),
  with the spans that run into it (``$x = 2$ and $x = 3$``), as MATH harnesses read such text; a
  chain states its last side; a restatement (``$a$ = $a$``) is not an answer.
- ``last_number``: the last number in the text, only when the style allows it and nothing above
  was found (see `styles.py`).

``require_marker=True`` keeps only the marked statements (``answer_is`` to ``boxed``): no
conclusion, no last expression, no last number (config ``grading.require_marker``).

The statement that begins LAST in the text wins, whatever its kind: a trajectory that reflects
and answers again is judged on its final answer (``The answer is: 18 ... Wait ... #### 16`` is
16), and nested statements agree (``The answer is $\\boxed{5}$`` is 5 either way). A candidate is
skipped when it is not an answer: empty after cleaning, an instruction's placeholder echoed back
(``The answer is: <answer>``), or a verdict on an answer (``the answer is correct``). A clause
after the answer is not part of it (``The answer is 81, which is the area of the circle``).

Cleaning (`clean_answer`) strips presentation, not content: ``$...$``, ``\\(...\\)``, markdown
emphasis, a boxed wrapper, a closing full stop, an adverb before the answer (``is therefore
105``), a unit in parentheses (``2 (slices)``); an arithmetic chain states its result (``91 / 7 =
13`` is 13) and a sentence given as the answer states the value after its verb (``The answer is:
The sum of the roots is 5``). Units, currency and ``x =`` are left to `normalize` at comparison time,
so `Answer.text` shows what the model wrote.

Cost: every pattern is linear in the text (literal anchors, no nested quantifiers); each
statement's scan stops at its line's end or after `MAX_STATEMENT_CHARS`; each rule tries at most
`MAX_TRIES` candidates from the end; brace matching is a single scan. So extraction of hostile or
very long text runs in the parent process without a timeout.
"""

from __future__ import annotations

import re
from itertools import islice

from lemma.grading.clean import CHAIN_LEFT, COPULA, acceptable, clean_answer, has_value
from lemma.grading.normalize import compact
from lemma.grading.several import joined_answer
from lemma.grading.spans import (
    MAX_TRIES,
    Answer,
    boxed_candidates,
    last_match,
    line_end,
    next_line,
    sentence_end,
)
from lemma.grading.styles import conclusion_allowed, last_math_allowed, last_number_allowed
from lemma.grading.unmarked import bare_answer, last_math

_ANSWER_IS = re.compile(r"\banswer\s+is\b(?!n['’]t)[ \t]*:?", re.IGNORECASE)
# "Answer: X" / "**Final Answer:** X" / "> answer: X" at the start of a line (colon required).
_LABEL = re.compile(
    r"^[ \t>*_-]*(?:#{1,6}[ \t]*)?[*_]*[ \t]*(?:the[ \t]+)?(?:final[ \t]+)?answer[ \t]*[*_]*[ \t]*:[ \t]*[*_]*",
    re.IGNORECASE | re.MULTILINE,
)
# A heading or a bold line that is only the label: "### Final Answer", "**Answer**", "#### Answer".
_LABEL_LINE = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]*[*_]*|[*_]{2})[ \t]*(?:the[ \t]+)?(?:final[ \t]+)?answer[ \t]*[*_]*[ \t]*:?[ \t]*[*_]*[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
_HASHES = re.compile(r"####")
# A number: optional sign, digits with optional thousands groups, optional decimals; or ".5".
_NUMBER = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|(?<![\w.])-?\.\d+")
# "The answer is 81, which is the area": a comma-led clause after the answer is not part of it.
_COMMA_CLAUSE = re.compile(r",\s+(?:which|so|because|since|but|as|where)\b", re.IGNORECASE)
# A heading after "####": a word of two letters or more.
_WORD_HEADING = re.compile(r"[ \t]*[*_]*[A-Za-z]{2,}")  # used with .match(text, pos)


# ---------------------------------------------------------------------------------------------
# The rules: each yields (statement_start, answer_start, answer_end), last first


def _answer_is(text: str):
    for m in reversed(list(_ANSWER_IS.finditer(text))):
        where = next_line(text, m.end())
        if where is None:
            continue
        a, line_end = where
        end = sentence_end(text, a, line_end)
        clause = _COMMA_CLAUSE.search(text, a, end)
        yield m.start(), a, end if clause is None else clause.start()


def _labels(text: str):
    found = [(m.start(), m.end(), False) for m in _LABEL.finditer(text)]
    found += [(m.start(), m.end(), True) for m in _LABEL_LINE.finditer(text)]
    for start, after, label_only in sorted(found, reverse=True):
        where = next_line(text, after)
        if where is None:
            continue
        a, b = where
        if label_only and a < line_end(text, after):
            continue  # a heading line has nothing after its label
        yield start, a, b


def _hashes(text: str):
    for m in reversed(list(_HASHES.finditer(text))):
        a, b = m.end(), line_end(text, m.end())
        if not text[a:b].strip() or _WORD_HEADING.match(text, a, b):
            continue  # "####" alone, or a markdown heading ("#### Question 2")
        yield m.start(), a, b


_RULES = (("answer_is", _answer_is), ("answer_label", _labels), ("hashes", _hashes), ("boxed", boxed_candidates))


def _boxed(text: str) -> Answer | None:
    boxes = list(islice(boxed_candidates(text), MAX_TRIES))  # last first
    return joined_answer(text, boxes[::-1], "boxed")


def _best_of(rule, text: str) -> Answer | None:
    name, candidates = rule
    if name == "boxed":
        return _boxed(text)
    for tries, (start, a, b) in enumerate(candidates(text)):
        if tries >= MAX_TRIES:
            break
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        cleaned = clean_answer(text[a:b])
        if acceptable(cleaned):
            return Answer(cleaned, start, a, b, name)
    return None


MARKED_RULES = tuple(name for name, _ in _RULES)


def find_marked(text: str, rules: tuple[str, ...] = MARKED_RULES) -> Answer | None:
    """The answer of the statement that begins last in `text`, or None when there is none.
    `rules` narrows the statements looked for (the LLM teacher's rewrite reads only
    ``answer_is``: its replies must end "The answer is: X")."""
    unknown = set(rules) - set(MARKED_RULES)
    if unknown:
        raise ValueError(f"unknown answer rules {sorted(unknown)}; expected some of {MARKED_RULES}")
    best = None
    for rule in _RULES:
        if rule[0] not in rules:
            continue
        found = _best_of(rule, text)
        if found is not None and (best is None or found.start > best.start):
            best = found
    return best


def extract_marked(text: str) -> str | None:
    """The cleaned answer of the last answer statement, or None."""
    found = find_marked(text)
    return None if found is None else found.text


def last_number(text: str) -> str | None:
    m = last_match(_NUMBER, text)
    return None if m is None else m.group(0)


# "So, the GCD is 12*12 = 144." / "Therefore, the number left is 8 - 64 = 12.": a concluding
# sentence; its answer follows its first "is"/"are"/"equals" (or its last "=" when it has no verb).
_CONCLUSION = re.compile(
    r"(?:^|(?<=[.!?\n]))[ \t*]*(?:so|therefore|thus|hence|in conclusion|in total|altogether)\b,?", re.IGNORECASE
)
# "... is 2\\sqrt{5}, which is about 4.47": the clause after the value is not part of it.
_TRAILING_CLAUSE = re.compile(r",?\s+(?:which|so|and|that|because|since|but|or about|about)\b", re.IGNORECASE)
# "are 1 and 19", "are \\( x = 2 \\) and \\( x = 3 \\)": an "and"/"or" that leads to another value
# lists answers; one that leads to words ("and this occurs when ...") ends the answer.
_ANOTHER_VALUE = re.compile(r",?\s+(?:and|or)\s+(?:\\\(|\$)?\s*(?:[-+]?\d|\\|[A-Za-z](?:_\{?\w+\}?)?\s*=)")


def _value_end(text: str, a: int, end: int) -> int:
    """Where the value that starts at `a` ends (at or before `end`): at its first trailing clause
    (lemma.grading.extract._TRAILING_CLAUSE) that does not lead to another value."""
    pos = a
    while True:
        clause = _TRAILING_CLAUSE.search(text, pos, end)
        if clause is None:
            return end
        if _ANOTHER_VALUE.match(text, clause.start(), end) is None:
            return clause.start()
        pos = clause.end()


# A number followed by words: "9 positive divisors of 36" (not "1 and 19": a list).
_NUMBER_THEN_WORDS = re.compile(r"\s*\$?(-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)\s+(?!(?:and|or)\s)[A-Za-z]{2,}")
# A last line that is a bare calculation: "18 / 24 = 0.75".
_BARE_CHAIN = re.compile(r"[\d\s.,+\-*/×÷^()$\\{}a-z]*=[^=\n]*", re.IGNORECASE)


def _conclusion(text: str) -> tuple[int, int, int] | None:
    """(start, answer_start, answer_end) of the last concluding sentence that states a value, or
    of a last line that is a bare calculation."""
    tail = text.rstrip()
    line_start = tail.rfind("\n") + 1
    last_line = tail[line_start:]
    if "=" in last_line and _BARE_CHAIN.fullmatch(last_line.strip()):
        left, _, right = last_line.rpartition("=")
        left, right = left.strip().strip("$").strip(), right.strip().strip("$").strip()
        # "\sqrt{72} = \sqrt{72}" restates; it does not answer.
        if CHAIN_LEFT.match(left) and compact(left) != compact(right):
            return line_start, line_start + last_line.rfind("=") + 1, len(tail)
    for tries, m in enumerate(reversed(list(_CONCLUSION.finditer(text)))):
        if tries >= MAX_TRIES:
            break
        end = sentence_end(text, m.end(), line_end(text, m.end()))
        verb = COPULA.search(text, m.end(), end)
        if verb is not None:
            a = verb.end()
        else:
            eq = text.rfind("=", m.end(), end)
            if eq < 0:
                numbers = list(_NUMBER.finditer(text, m.end(), end))
                if len(numbers) == 1:  # "In conclusion, Emma earns $450.": its one number
                    return m.start(), numbers[0].start(), numbers[0].end()
                if has_value(text[m.end() : end]):
                    return None  # a later conclusion with a value we cannot place supersedes earlier ones
                continue
            a = eq + 1
        end = _value_end(text, a, end)
        lead = _NUMBER_THEN_WORDS.match(text, a, end)
        if lead is not None:  # "there are 9 positive divisors of 36": the count is the answer
            return m.start(), lead.start(1), lead.end(1)
        if has_value(text[a:end]):
            return m.start(), a, end
    return None


def find_answer(
    completion: str, style: str = "gsm8k", allow_last_number: bool | None = None, require_marker: bool = False
) -> Answer | None:
    """The final answer of `completion` with its place, by the rules above, or None. With
    `require_marker`, only a marked statement answers (no conclusion, no last expression, no last
    number)."""
    found = find_marked(completion)
    if found is not None or require_marker:
        return found
    if conclusion_allowed(style):
        span = _conclusion(completion)
        if span is not None:
            start, a, b = span
            while a < b and completion[a].isspace():
                a += 1
            cleaned = clean_answer(completion[a:b])
            if acceptable(cleaned) and has_value(cleaned):
                return Answer(cleaned, start, a, b, "conclusion")
        found = bare_answer(completion)
        if found is not None:
            return found
    if last_math_allowed(style):
        found = last_math(completion)
        if found is not None:
            return found
    if last_number_allowed(style, allow_last_number):
        m = last_match(_NUMBER, completion)
        if m is not None:
            return Answer(m.group(0), m.start(), m.start(), m.end(), "last_number")
    return None


def extract_answer(
    completion: str, style: str = "gsm8k", allow_last_number: bool | None = None, require_marker: bool = False
) -> str | None:
    """The final answer of `completion` by the rules above, or None when it gives none."""
    found = find_answer(completion, style, allow_last_number, require_marker)
    return None if found is None else found.text


def reference_answer(gold: str) -> str:
    """The answer inside a reference: a full solution's marked answer when it has one (a GSM8K
    ``#### 72`` or a MATH ``\\boxed{...}``), else the whole reference, cleaned."""
    found = extract_marked(gold)
    return found if found is not None else clean_answer(gold)
