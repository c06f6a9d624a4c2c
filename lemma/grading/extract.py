"""Finding the final answer in a completion: the project's one place for it.

Public API:

    find_answer(text, style="gsm8k", allow_last_number=None) -> Answer | None
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
    last_boxed(text) -> str | None
        the content of the last well-formed ``\\boxed{}`` (the MATH loader's reference answer).

The project's own statement ``The answer is: X`` (the paper's format, which every generated,
taught and trained solution ends with) is written by `answer_statement` and read strictly, as
one whole line, by `answer_of_statement_line` (the built-in world's parser);
`has_answer_statement` and `without_answer_lines` serve the loader and the smoothing check.
Nothing else in the project parses an answer statement.

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
- ``boxed``: ``\\boxed{...}`` / ``\\fbox{...}``, braces matched so nested groups stay whole.
- ``conclusion``: only when none of the above is found, and not in the built-in ``world`` style:
  the last concluding sentence that states a value (``So, the GCD is 12*12 = 144.``,
  ``Therefore, the number left is 12.``: the text after its first "is"/"are"/"equals", a count
  before its noun ``there are 9 divisors of 36``, or the one number of a sentence without a verb
  ``In conclusion, Emma earns $450.``), or a last
  line that is a bare calculation (``18 / 24 = 0.75``; a restatement ``\\sqrt{72} = \\sqrt{72}``
  is not an answer).
- ``last_number``: the last number in the text, only when the style allows it and nothing above
  was found (see `styles.py`).

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
from dataclasses import dataclass

from lemma.grading.styles import conclusion_allowed, last_number_allowed

# An answer longer than this is not an answer (the grader's MAX_ANSWER_CHARS is 1,000).
MAX_STATEMENT_CHARS = 2_000
# Candidates of one rule tried from the end before that rule gives up.
MAX_TRIES = 20


@dataclass(frozen=True)
class Answer:
    """A final answer found in a completion."""

    text: str  # cleaned answer, as the model wrote it
    start: int  # where its statement begins (the marker)
    answer_start: int  # the raw answer text is completion[answer_start:end]
    end: int
    rule: str  # answer_is | answer_label | hashes | boxed | conclusion | last_number


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
_BOXED = re.compile(r"\\(?:boxed|fbox)")
_HOPE = re.compile(r"I hope it is correct", re.IGNORECASE)
# A number: optional sign, digits with optional thousands groups, optional decimals; or ".5".
_NUMBER = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|(?<![\w.])-?\.\d+")
# An instruction's placeholder echoed back: "<answer>", "[your answer]", "N".
_PLACEHOLDER = re.compile(r"<[^<>\n]{0,40}>|\[[^\[\]\n]*answer[^\[\]\n]*\]|^(?:N|X)$", re.IGNORECASE)
# "the answer is correct/wrong/...": a verdict or a preamble, not an answer.
_NOT_AN_ANSWER = re.compile(
    r"^(?:not\b|correct\b|incorrect\b|wrong\b|right\b|as follows\b|below\b|given\b|shown\b|that\b|because\b|to\b)",
    re.IGNORECASE,
)
# "The answer is 81, which is the area": a comma-led clause after the answer is not part of it.
_COMMA_CLAUSE = re.compile(r",\s+(?:which|so|because|since|but|as|where)\b", re.IGNORECASE)
# A heading after "####": a word of two letters or more.
_WORD_HEADING = re.compile(r"[ \t]*[*_]*[A-Za-z]{2,}")  # used with .match(text, pos)


# ---------------------------------------------------------------------------------------------
# Text scanning helpers


def _line_end(text: str, start: int) -> int:
    end = text.find("\n", start, start + MAX_STATEMENT_CHARS)
    return min(len(text), start + MAX_STATEMENT_CHARS) if end < 0 else end


def _next_line(text: str, start: int) -> tuple[int, int] | None:
    """(start, end) of the rest of the line from `start` when it is not blank; else of the next
    non-blank line among the following three (models put the answer under its marker)."""
    end = _line_end(text, start)
    if text[start:end].strip():
        return start, end
    pos = end
    for _ in range(3):
        if pos >= len(text) or text[pos] != "\n":
            return None
        pos += 1
        nxt = _line_end(text, pos)
        if text[pos:nxt].strip():
            return pos, nxt
        pos = nxt
    return None


def _sentence_end(text: str, start: int, end: int) -> int:
    """Where the sentence that begins at `start` ends, at or before `end` (a line's end): at a
    full stop, '!' or '?' followed by white space, outside math (``$...$``, braces, ``\\(...\\)``),
    or at "I hope it is correct"."""
    hope = _HOPE.search(text, start, end)
    if hope:
        end = hope.start()
    depth = 0
    in_math = False
    i = start
    while i < end:
        ch = text[i]
        if ch == "\\":
            nxt = text[i + 1 : i + 2]
            if nxt in ("(", "["):
                depth += 1
            elif nxt in (")", "]"):
                depth = max(0, depth - 1)
            i += 2
            continue
        if ch == "$":
            # A "$" with no partner later on the line is a currency sign ("$14. She ..."), not math.
            if in_math or text.find("$", i + 1, end) >= 0:
                in_math = not in_math
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(0, depth - 1)
        elif ch in ".!?" and depth == 0 and not in_math:
            if i + 1 >= end or text[i + 1] in " \t\r\n":
                return i
        i += 1
    return end


def braced_group(text: str, start: int, end: int | None = None) -> tuple[str, int] | None:
    """The content of the brace group opening at `text[start] == '{'` and the index after its
    closing brace, or None when the braces do not balance before `end`. Escaped braces
    (``\\{``) are content."""
    n = len(text) if end is None else min(end, len(text))
    if start >= n or text[start] != "{":
        return None
    depth = 0
    i = start
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i], i + 1
        i += 1
    return None


def _boxed_span(text: str, at: int, end: int) -> tuple[int, int] | None:
    """(start, end) of the argument of the ``\\boxed``/``\\fbox`` whose backslash is at `at`."""
    start = at + (6 if text.startswith("\\boxed", at) else 5)
    i = start
    while i < end and text[i] == " ":
        i += 1
    if i < end and text[i] == "{":
        group = braced_group(text, i, end)
        return None if group is None else (i + 1, group[1] - 1)
    if i == start:  # "\boxedfoo" is another command
        return None
    # "\boxed 5": the argument is the next token.
    j = i
    while j < end and not text[j].isspace() and text[j] != "$":
        j += 1
    return (i, j) if j > i else None


def _boxed_candidates(text: str):
    """(start, answer_start, end) of well-formed boxes, last first."""
    # A group that never closes cannot be closed for an earlier group either (the earlier one
    # would be deeper still), so each earlier scan stops where the last failed group began.
    # That keeps a text of thousands of unclosed "\\boxed{" linear instead of quadratic.
    end = len(text)
    for match in reversed(list(_BOXED.finditer(text))):
        if match.start() >= end:
            continue
        span = _boxed_span(text, match.start(), end)
        if span is not None:
            yield match.start(), span[0], span[1]
        else:
            end = match.start()


def last_boxed(text: str) -> str | None:
    """The content of the last well-formed ``\\boxed``/``\\fbox`` in `text`."""
    for _, a, b in _boxed_candidates(text):
        return text[a:b]
    return None


# ---------------------------------------------------------------------------------------------
# Cleaning


_WRAPPERS = (
    ("$$", "$$"),
    ("$", "$"),
    ("\\(", "\\)"),
    ("\\[", "\\]"),
    ("**", "**"),
    ("__", "__"),
    ("*", "*"),
    ("`", "`"),
)
# An arithmetic chain "a op b = c": its left side has digits and operators, and letters only in
# LaTeX commands (\frac, \cdot, \log_2 ...).
_CHAIN_LEFT = re.compile(r"^(?:\\[A-Za-z]+|[\d\s.,+\-*/×÷^_(){}\[\]])+$")
# Relations whose "=" is not an equals sign.
_RELATION = re.compile(r"\\(?:le|ge|ne|leq|geq|neq|approx)\b|[<>≤≥≠≈]|!=")


# "the answer is therefore 105": an adverb before the answer is not part of it.
_LEAD_ADVERB = re.compile(
    r"^(?:therefore|thus|hence|so|then|clearly|simply|just|indeed|actually|definitely|exactly|now)\b[,:]?\s+",
    re.IGNORECASE,
)
# "2 (slices)": a parenthetical of words after a number names its unit.
_TRAILING_WORDS = re.compile(r"\s*\([A-Za-z][A-Za-z .'-]*\)$")
_LEADING_WORD = re.compile(r"^[A-Za-z]{2,}\b")


def _nested_statement(s: str) -> str:
    """ "The answer is: The sum of the roots is 5": a sentence given as the answer states its
    value after its verb."""
    if not _LEADING_WORD.match(s):
        return s
    verb = last_match(_COPULA, s)
    if verb is None:
        return s
    rest = s[verb.end() :].strip()
    return rest if rest and (any(ch.isdigit() for ch in rest) or "\\" in rest) else s


def _chain_result(s: str) -> str:
    """``91 / 7 = 13`` states 13; ``x^2 + y^2 = 25`` and ``x = 5`` stay (normalize handles an
    assignment)."""
    if "=" not in s or _RELATION.search(s):
        return s
    left, _, right = s.rpartition("=")
    right = right.strip()
    first = left.split("=", 1)[0]
    if right and any(ch.isdigit() for ch in first) and _CHAIN_LEFT.match(first.strip()):
        return right
    return s


def clean_answer(answer: str) -> str:
    """Strip presentation around an extracted answer: whitespace, math delimiters, markdown
    emphasis, a boxed wrapper, a closing full stop or comma; an arithmetic chain becomes its
    result."""
    s = answer.strip()
    for _ in range(8):  # a few rounds: "**$18$**." needs three
        before = s
        s = s.strip()
        if s.endswith(".") and not s.endswith("..."):
            s = s[:-1].rstrip()
        s = s.rstrip(",;:").strip()
        # Markdown emphasis left over on one side only ("**Answer: 12**" leaves "12**").
        if s.endswith("**") and "**" not in s[:-2]:
            s = s[:-2]
        if s.startswith("**") and "**" not in s[2:]:
            s = s[2:]
        for left, right in _WRAPPERS:
            if len(s) > len(left) + len(right) and s.startswith(left) and s.endswith(right):
                s = s[len(left) : len(s) - len(right)]
                break
        if "\\boxed" in s or "\\fbox" in s:
            inner = last_boxed(s)
            if inner is not None:
                s = inner
        s = _chain_result(s)
        s = _LEAD_ADVERB.sub("", s, count=1)
        trailing = _TRAILING_WORDS.search(s)
        if trailing and any(ch.isdigit() for ch in s[: trailing.start()]):
            s = s[: trailing.start()]
        s = _nested_statement(s)
        if s == before:
            break
    return s.strip()


def _acceptable(cleaned: str) -> bool:
    return bool(cleaned) and not _PLACEHOLDER.search(cleaned) and not _NOT_AN_ANSWER.match(cleaned)


# ---------------------------------------------------------------------------------------------
# The rules: each yields (statement_start, answer_start, answer_end), last first


def _answer_is(text: str):
    for m in reversed(list(_ANSWER_IS.finditer(text))):
        where = _next_line(text, m.end())
        if where is None:
            continue
        a, line_end = where
        end = _sentence_end(text, a, line_end)
        clause = _COMMA_CLAUSE.search(text, a, end)
        yield m.start(), a, end if clause is None else clause.start()


def _labels(text: str):
    found = [(m.start(), m.end(), False) for m in _LABEL.finditer(text)]
    found += [(m.start(), m.end(), True) for m in _LABEL_LINE.finditer(text)]
    for start, after, label_only in sorted(found, reverse=True):
        where = _next_line(text, after)
        if where is None:
            continue
        a, b = where
        if label_only and a < _line_end(text, after):
            continue  # a heading line has nothing after its label
        yield start, a, b


def _hashes(text: str):
    for m in reversed(list(_HASHES.finditer(text))):
        a, b = m.end(), _line_end(text, m.end())
        if not text[a:b].strip() or _WORD_HEADING.match(text, a, b):
            continue  # "####" alone, or a markdown heading ("#### Question 2")
        yield m.start(), a, b


_RULES = (("answer_is", _answer_is), ("answer_label", _labels), ("hashes", _hashes), ("boxed", _boxed_candidates))


def _best_of(rule, text: str) -> Answer | None:
    name, candidates = rule
    for tries, (start, a, b) in enumerate(candidates(text)):
        if tries >= MAX_TRIES:
            break
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        cleaned = clean_answer(text[a:b])
        if _acceptable(cleaned):
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


def last_match(pattern: re.Pattern, text: str) -> re.Match | None:
    """The last of `pattern`'s matches in `text` (None when there is none)."""
    found = None
    for found in pattern.finditer(text):  # noqa: B007 - the loop keeps the last match
        pass
    return found


def last_number(text: str) -> str | None:
    m = last_match(_NUMBER, text)
    return None if m is None else m.group(0)


# "So, the GCD is 12*12 = 144." / "Therefore, the number left is 8 - 64 = 12.": a concluding
# sentence; its answer follows its first "is"/"are"/"equals" (or its last "=" when it has no verb).
_CONCLUSION = re.compile(
    r"(?:^|(?<=[.!?\n]))[ \t*]*(?:so|therefore|thus|hence|in conclusion|in total|altogether)\b,?", re.IGNORECASE
)
_COPULA = re.compile(r"\s(?:is|are|equals|was|were)\s+(?:(?:equal|equivalent)\s+to\s+)?", re.IGNORECASE)
# "... is 2\\sqrt{5}, which is about 4.47": the clause after the value is not part of it.
_TRAILING_CLAUSE = re.compile(r",?\s+(?:which|so|and|that|because|since|but|or about|about)\b", re.IGNORECASE)
# A number followed by words: "9 positive divisors of 36".
_NUMBER_THEN_WORDS = re.compile(r"\s*\$?(-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)\s+[A-Za-z]{2,}")
# A last line that is a bare calculation: "18 / 24 = 0.75".
_BARE_CHAIN = re.compile(r"[\d\s.,+\-*/×÷^()$\\{}a-z]*=[^=\n]*", re.IGNORECASE)


def _has_value(s: str) -> bool:
    return any(ch.isdigit() for ch in s) or "\\" in s


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
        if _CHAIN_LEFT.match(left) and re.sub(r"\s+", "", left) != re.sub(r"\s+", "", right):
            return line_start, line_start + last_line.rfind("=") + 1, len(tail)
    for tries, m in enumerate(reversed(list(_CONCLUSION.finditer(text)))):
        if tries >= MAX_TRIES:
            break
        end = _sentence_end(text, m.end(), _line_end(text, m.end()))
        verb = _COPULA.search(text, m.end(), end)
        if verb is not None:
            a = verb.end()
        else:
            eq = text.rfind("=", m.end(), end)
            if eq < 0:
                numbers = list(_NUMBER.finditer(text, m.end(), end))
                if len(numbers) == 1:  # "In conclusion, Emma earns $450.": its one number
                    return m.start(), numbers[0].start(), numbers[0].end()
                if _has_value(text[m.end() : end]):
                    return None  # a later conclusion with a value we cannot place supersedes earlier ones
                continue
            a = eq + 1
        clause = _TRAILING_CLAUSE.search(text, a, end)
        if clause is not None:
            end = clause.start()
        lead = _NUMBER_THEN_WORDS.match(text, a, end)
        if lead is not None:  # "there are 9 positive divisors of 36": the count is the answer
            return m.start(), lead.start(1), lead.end(1)
        if _has_value(text[a:end]):
            return m.start(), a, end
    return None


def find_answer(completion: str, style: str = "gsm8k", allow_last_number: bool | None = None) -> Answer | None:
    """The final answer of `completion` with its place, by the rules above, or None."""
    found = find_marked(completion)
    if found is not None:
        return found
    if conclusion_allowed(style):
        span = _conclusion(completion)
        if span is not None:
            start, a, b = span
            while a < b and completion[a].isspace():
                a += 1
            cleaned = clean_answer(completion[a:b])
            if _acceptable(cleaned) and _has_value(cleaned):
                return Answer(cleaned, start, a, b, "conclusion")
    if last_number_allowed(style, allow_last_number):
        m = last_match(_NUMBER, completion)
        if m is not None:
            return Answer(m.group(0), m.start(), m.start(), m.end(), "last_number")
    return None


def extract_answer(completion: str, style: str = "gsm8k", allow_last_number: bool | None = None) -> str | None:
    """The final answer of `completion` by the rules above, or None when it gives none."""
    found = find_answer(completion, style, allow_last_number)
    return None if found is None else found.text


def reference_answer(gold: str) -> str:
    """The answer inside a reference: a full solution's marked answer when it has one (a GSM8K
    ``#### 72`` or a MATH ``\\boxed{...}``), else the whole reference, cleaned."""
    found = extract_marked(gold)
    return found if found is not None else clean_answer(gold)


# ---------------------------------------------------------------------------------------------
# The project's own answer statement: "The answer is: X", the paper's format, which every solution
# the world generates, every trajectory a teacher writes and every SFT reference ends with. The
# writer and the strict readers of that one line live here with the general extractor above.

ANSWER_STATEMENT = "The answer is: "
# "The answer is: X" anywhere (a reference that already ends with it needs no second one).
_STATEMENT = re.compile(r"The answer is:", re.IGNORECASE)
# A line that is nothing but the statement: "The answer is: 42", "the answer is 42." (the world's
# and the tiny student's line; X is whatever stands between the marker and an optional full stop).
_STATEMENT_LINE = re.compile(r"^the answer is\s*:?\s*(.*?)\s*\.?$", re.IGNORECASE)
# Whole lines that state an answer in any wording ("Therefore, the final answer is 5.").
_ANSWER_IS_LINE = re.compile(r"^\W*(?:the\s+)?(?:final\s+)?answer\s+is\b.*$", re.IGNORECASE | re.MULTILINE)


def answer_statement(answer) -> str:
    """The line that states `answer` in the project's format: ``The answer is: X``."""
    return f"{ANSWER_STATEMENT}{answer}"


def has_answer_statement(text: str) -> bool:
    """Whether `text` already states its answer in the project's format ("The answer is:")."""
    return _STATEMENT.search(text) is not None


def answer_of_statement_line(line: str) -> str | None:
    """X when `line` (stripped by the caller) is nothing but ``The answer is: X`` (colon and a
    closing full stop optional), else None. The world's strict line reader: a line with more on it
    is not its answer line."""
    m = _STATEMENT_LINE.match(line)
    return None if m is None else m.group(1)


def without_answer_lines(text: str) -> str:
    """`text` with every line that states an answer ("... answer is ...") emptied, so that the
    reasoning around it can be compared without its answer."""
    return _ANSWER_IS_LINE.sub("", text)
