"""Reading LLM teacher replies back into structured results, tolerant of format drift.

Models rarely keep an output format to the letter: they bold the verdict, write "Step 3" or "step
three", spell a label "Calculation Error" or "CA", add a period, wrap text in code fences, or
repeat the prompt's last sentence. Each parser accepts those variants and otherwise returns a short
machine-readable reason (never raises), which the teacher turns into `dropped="<stage>:<reason>"`.

Judges must state a verdict in the asked form ("the first wrong step is step N", "the wrong type
is X"), or say the solution is correct (CORRECT); lines that echo the student's numbered solution
are never read as a verdict.

Reasons: empty_reply, no_step_statement, echo_not_verdict (the last line only names a step or a
type, as an echoed student line does), step_out_of_range, no_type_statement, unknown_type,
no_explanation, no_final_answer, answer_only (a continuation that is only its answer line),
same_answer_as_reference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lemma.grading.extract import ANSWER_STATEMENT, answer_statement, find_marked
from lemma.teacher.base import TypeSpec
from lemma.text.steps import split_steps

_WORDS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
]
_ORDINALS = [
    "zeroth",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
]
NUMBER_WORDS = {w: i for i, w in enumerate(_WORDS)} | {w: i for i, w in enumerate(_ORDINALS)}
_NUM = r"(\d+|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")"

_MARKDOWN = re.compile(r"\*\*|__|`|(?<!\w)\*(?!\s)|(?<!\s)\*(?!\w)|^#+\s*", re.MULTILINE)


def strip_markdown(text: str) -> str:
    """Bold, italics, inline code and heading marks removed; the words kept."""
    return _MARKDOWN.sub("", text)


def _to_int(token: str) -> int:
    token = token.lower()
    return int(token) if token.isdigit() else NUMBER_WORDS[token]


# ---------------------------------------------------------------------------------------------
# first wrong step
_WRONG = r"(?:wrong|incorrect|erroneous|mistaken|faulty|flawed|bad)"
_STEP_PATTERNS = [
    # "the first wrong step is step 3", "first incorrect step: Step #3", "first wrong step is 3"
    re.compile(
        r"first\s+" + _WRONG + r"\s+step\s*(?:is|:|=|would\s+be|occurs\s+(?:in|at))?\s*"
        r"(?:at\s+|in\s+)?(?:step\s*)?(?:#|no\.?\s*|number\s*)?" + _NUM + r"\b",
        re.I,
    ),
    # "the first error is in step 3", "the first mistake occurs at step three"
    re.compile(
        r"first\s+(?:error|mistake)\s+(?:is|occurs|appears|happens|starts|begins)\s+(?:in|at)\s+"
        r"step\s*(?:#|no\.?\s*)?" + _NUM + r"\b",
        re.I,
    ),
    # "step 3 is the first wrong step"
    re.compile(
        r"step\s*(?:#\s*)?" + _NUM + r"\s+is\s+the\s+first\s+(?:" + _WRONG + r"|step\s+with\s+an?\s+(?:error|mistake))",
        re.I,
    ),
    # "the first wrong step is the third step"
    re.compile(r"first\s+" + _WRONG + r"\s+step\s+is\s+the\s+" + _NUM + r"(?:st|nd|rd|th)?\s+(?:step|one)\b", re.I),
]
_ANY_STEP = re.compile(r"\bstep\s*(?:#\s*)?" + _NUM + r"\b", re.I)
# The one bare form still read as a verdict: a last line that is nothing but a labelled step
# ("Answer: Step 4.", "Verdict - step 4"). A line that names a step and says more is not a verdict:
# it is typically the student's own numbered line echoed back ("Step 8: The answer is correct: 105").
_LABELLED_STEP_LINE = re.compile(
    r"^\s*(?:(?:final\s+)?(?:answer|verdict|conclusion)|first\s+" + _WRONG + r"\s+step)"
    r"\s*[:=\-–—]\s*(?:the\s+)?step\s*(?:#\s*)?" + _NUM + r"\s*[.!]?\s*$",
    re.I,
)

# "This solution is correct": a verdict the judges may give (the grader can be wrong). Only
# statements about the whole solution count; "step 2 is correct" or "the answer is correct" (a
# phrase students write themselves) do not.
CORRECT = "correct"
_CORRECT_PATTERNS = [
    # not "the rest of the solution is correct", which a judge says beside a wrong step
    re.compile(
        r"(?<!of\s)(?<!of\sthe\s)(?<!of\shis\s)(?<!of\sher\s)\b(?:the\s+)?(?:student'?s\s+)?(?:whole\s+|entire\s+)?"
        r"solution(?:\s+to\s+(?:the|this)(?:\s+math)?\s+(?:problem|question)|\s*\([^)\n]{0,40}\))?\s+is\s+"
        r"(?:(?!not\b|in)[a-z]+\s+)?(?:correct|right)\b",
        re.I,
    ),
    re.compile(
        r"\b(?:there\s+is\s+)?no\s+(?:" + _WRONG + r"\s+step|step\s+is\s+" + _WRONG + r"|mistakes?|errors?)\b"
        r"(?:\s+(?:at\s+all|anywhere|in\s+(?:the|this)\s+(?:student'?s\s+)?solution))?\s*[.!]?\s*$",
        re.I | re.M,
    ),
    re.compile(r"\b(?:all|every)\s+(?:of\s+the\s+)?steps?\s+(?:is|are)\s+(?:correct|right)\b", re.I),
]
_ECHO_LABEL = re.compile(r"^\s*(?:[-*>]\s*)?step\s*" + r"\d+\s*:", re.I)


@dataclass(frozen=True)
class Parsed:
    value: object = None
    reason: str | None = None  # None when value is good
    note: str = ""  # what was read, for the rationale of a drop


def _without_echoes(text: str, shown: str) -> str:
    """The reply without lines that echo the numbered solution the judge was shown: a line that
    starts with the "Step N:" label of our numbering, or that occurs in `shown` as it stands.
    Verdicts are read only from what remains, so the student's own words never become one."""
    shown_lines = {_squash(ln) for ln in shown.splitlines() if _squash(ln)}
    shown_flat = _squash(shown)
    keep = []
    for ln in text.splitlines():
        sq = _squash(ln)
        if _ECHO_LABEL.match(ln) or (sq and (sq in shown_lines or (len(sq) > 20 and sq in shown_flat))):
            keep.append("")
        else:
            keep.append(ln)
    return "\n".join(keep)


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def _no_verdict(reply: str, kept: str, reason: str) -> Parsed:
    """The drop for a reply without a verdict: echo_not_verdict when its last line echoed the
    student's solution (the case a lenient fallback used to accept), else `reason`."""
    last = _last_line(strip_markdown(reply))
    echoed = _last_line(kept).strip() != last.strip()  # echo lines were blanked out of `kept`
    return Parsed(reason="echo_not_verdict" if echoed else reason, note=last[-200:])


def _correct_verdicts(text: str) -> list[tuple[int, str]]:
    return [(m.start(), CORRECT) for pat in _CORRECT_PATTERNS for m in pat.finditer(text)]


def parse_step(reply: str | None, n_steps: int, shown: str = "") -> Parsed:
    """The first wrong step (1-based) stated in a judge's reply, or CORRECT when its verdict is
    that the solution has no mistake. `shown` is the numbered solution the judge was given: lines
    echoing it are never read as a verdict."""
    if not reply or not reply.strip():
        return Parsed(reason="empty_reply")
    text = _without_echoes(strip_markdown(reply), shown)
    found = []
    for pat in _STEP_PATTERNS:
        found += [(m.start(), m.group(1)) for m in pat.finditer(text)]
    found += _correct_verdicts(text)
    if not found:
        m = _LABELLED_STEP_LINE.match(_last_line(text))
        if m is None:
            return _no_verdict(reply, text, "no_step_statement")
        found = [(0, m.group(1))]
    token = max(found)[1]  # the last statement wins: judges often restate their verdict at the end
    if token == CORRECT:
        return Parsed(CORRECT)
    step = _to_int(token)
    if not 1 <= step <= n_steps:
        return Parsed(reason="step_out_of_range", note=f"step {step} of {n_steps}")
    return Parsed(step)


# ---------------------------------------------------------------------------------------------
# error type
def _norm_label(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


class LabelIndex:
    """Every accepted spelling of every taxonomy label: the name, the name with spaces or hyphens,
    the name without a trailing "_error", and the code (CA, QM, ...)."""

    def __init__(self, taxonomy: list[TypeSpec]):
        self.names = [t.name for t in taxonomy]
        self.by_form: dict[str, str] = {}
        self.codes: dict[str, str] = {}
        short_counts: dict[str, int] = {}
        for t in taxonomy:
            short = _norm_label(t.name).removesuffix("_error")
            short_counts[short] = short_counts.get(short, 0) + 1
        for t in taxonomy:
            n = _norm_label(t.name)
            self.by_form[n] = t.name
            short = n.removesuffix("_error")
            if short_counts[short] == 1:
                self.by_form.setdefault(short, t.name)
            if t.code:
                self.codes[t.code.upper()] = t.name

    def lookup(self, candidate: str) -> str | None:
        c = candidate.strip().strip("\"'[]()<>{}.,;:!“”‘’ ")
        if not c:
            return None
        if c.upper() in self.codes and len(c) <= 4:
            return self.codes[c.upper()]
        n = _norm_label(c)
        if n in self.by_form:
            return self.by_form[n]
        bare = re.sub(r"^(?:the|a|an)_", "", n)
        if bare in self.by_form:
            return self.by_form[bare]
        # "calculation_error (CA)", "CA - calculation error", "calculation error, because ..."
        for piece in re.split(r"\s*[()\-–—:,;/|]\s*|\s+because\s+|\s+since\s+", c):
            piece = piece.strip()
            if piece and piece != c:
                got = self.lookup(piece)
                if got:
                    return got
        return None

    def lookup_exact(self, candidate: str) -> str | None:
        """The label when `candidate` is nothing but one spelling of it (punctuation aside)."""
        c = candidate.strip().strip("\"'[]()<>{}.,;:!“”‘’ ")
        if c.upper() in self.codes and len(c) <= 4:
            return self.codes[c.upper()]
        n = _norm_label(c)
        return self.by_form.get(n) or self.by_form.get(re.sub(r"^(?:the|a|an)_", "", n))

    def mentions(self, line: str) -> set[str]:
        """Labels named anywhere in a line (codes only when written in capitals)."""
        found = set()
        low = " " + _norm_label(line).replace("_", " ") + " "
        for form, name in self.by_form.items():
            if f" {form.replace('_', ' ')} " in low:
                found.add(name)
        for code, name in self.codes.items():
            if re.search(rf"\b{re.escape(code)}\b", line):
                found.add(name)
        # a short form inside a longer name ("calculation" in "calculation error") is one label
        return found


_TYPE_STATEMENT = re.compile(
    r"(?:wrong|error|mistake)\s+type\s*(?:is|:|=|would\s+be)\s*(?:the\s+)?(?:label\s*)?(.+)$"
    r"|type\s+of\s+(?:the\s+)?(?:first\s+)?(?:error|mistake)\s*(?:is|:|=)\s*(.+)$"
    r"|(?:error|mistake)\s+(?:category|label|kind)\s*(?:is|:|=)\s*(.+)$",
    re.I | re.M,
)


def parse_error_type(reply: str | None, taxonomy: list[TypeSpec], shown: str = "") -> Parsed:
    """The error type named by "the wrong type is X" (or a close variant) in a judge's reply, or
    CORRECT when its verdict is that the solution has no mistake. Lines echoing the numbered
    solution it was `shown` are never read as a verdict; a bare last line counts only when it is
    nothing but one label ("Calculation Error.", "Answer: CA")."""
    if not reply or not reply.strip():
        return Parsed(reason="empty_reply")
    index = LabelIndex(taxonomy)
    text = _without_echoes(strip_markdown(reply), shown)
    found = [(m.start(), next(g for g in m.groups() if g is not None)) for m in _TYPE_STATEMENT.finditer(text)]
    found += _correct_verdicts(text)
    if found:
        raw = max(found, key=lambda f: f[0])[1].strip()
        if raw == CORRECT:
            return Parsed(CORRECT)
        name = index.lookup(raw)
        if name is None:
            return Parsed(reason="unknown_type", note=raw[:200])
        return Parsed(name)
    last = _last_line(text)
    bare = re.sub(r"^\s*(?:(?:final\s+)?(?:answer|verdict|label|type)\s*[:=\-–—]\s*)", "", last, flags=re.I)
    name = index.lookup_exact(bare)
    if name is not None:
        return Parsed(name)
    return _no_verdict(reply, text, "no_type_statement")


# ---------------------------------------------------------------------------------------------
# final answers and generated solutions
# Replies must end "The answer is: X"; the grader's extractor reads that statement (in any wording:
# "the final answer is $\boxed{5}$.", "So the answer is 5"), so a teacher's answer is the one the
# grader will read. Other statements (a "#### X" line, a \boxed{} inside a sentence) cannot be
# rewritten as the answer line, so they do not end a reply.
_FINAL_RULES = ("answer_is",)
# The words of the statement before the extractor's marker ("answer is"): cut with it ("the
# correct answer is 24" becomes "The answer is: 24").
_STATEMENT_LEAD = re.compile(r"\b(?:(?:the|my|our)\s+)?(?:(?:final|correct|right|actual)\s+)?$", re.I)


def find_final_answer(text: str) -> tuple[str, int] | None:
    """(answer, end offset of the answer) of the last "The answer is: X" statement of `text` with
    its markdown removed, else None."""
    found = find_marked(strip_markdown(text), _FINAL_RULES)
    return None if found is None else (found.text, found.end)


def answers_match(a: str, b: str) -> bool:
    """A cheap equality of two final answers (numbers compared as numbers). The workflow's grader
    is the authority; this only lets a teacher drop injections that kept the right answer."""

    def norm(x: str) -> str:
        return re.sub(r"\s+|,(?=\d{3}\b)|^\$|\\[,!]|\\text\{[^}]*\}", "", x.strip()).lower()

    na, nb = norm(a), norm(b)
    if na == nb:
        return True
    try:
        return abs(float(na) - float(nb)) < 1e-9 * max(1.0, abs(float(nb)))
    except ValueError:
        return False


_FENCE = re.compile(r"^```[^\n]*\n|\n?```\s*$", re.M)
_LEAD_LABEL = re.compile(
    r"^\s*(?:#+\s*)?(?:\*\*)?(?:here\s+is[^\n]*?:|(?:the\s+)?(?:wrong|incorrect|rewritten|smoothed|revised|new|"
    r"student'?s?|careless)?\s*(?:solution|continuation|answer|response|rewrite|version)\s*:)(?:\*\*)?[ \t]*\n?",
    re.I,
)


def _tidy(text: str) -> str:
    t = _FENCE.sub("", text.strip()).strip()
    prev = None
    while prev != t:  # "Here is the rewrite:\n**Solution:**\n..." carries two labels
        prev = t
        t = _LEAD_LABEL.sub("", t, count=1).strip()
    return t


_CONNECTOR_TAIL = re.compile(
    r"(?:^|[\s,;:.])*(?:\b(?:so|thus|therefore|hence|and|then|finally|which\s+means|that\s+means)\b[\s,;:]*)*$", re.I
)


def _end_at_final_answer(text: str) -> tuple[str, str] | None:
    """Text cut after its last final-answer line, which is rewritten as "The answer is: X"."""
    plain = strip_markdown(text)
    found = find_marked(plain, _FINAL_RULES)
    if found is None:
        return None
    line_start = plain.rfind("\n", 0, found.start) + 1
    before = _STATEMENT_LEAD.sub("", plain[line_start : found.start], count=1)
    # "Therefore, the answer is 5" -> drop the connector; "She has 5 left, so the answer is 5"
    # -> keep the sentence, without its dangling "so".
    before = _CONNECTOR_TAIL.sub("", before.rstrip())
    body = (plain[:line_start] + before).strip()
    line = answer_statement(found.text)
    return (f"{body}\n{line}" if body else line), found.text


_EXPLANATION = re.compile(r"<explanation>(.*?)(?:</explanation>|\Z)", re.I | re.S)
_WRONG_STEP_QUOTE = re.compile(r"wrong\s+step\s*:\s*(.+)", re.I)


def _squash(s: str) -> str:
    return re.sub(r"\s+", " ", strip_markdown(s)).strip().strip("\"'“”").rstrip(".").strip().lower()


def locate_quoted_step(solution: str, quote: str, style: str) -> int | None:
    """The 1-based step of `solution` that the quote names (exactly, or contained either way)."""
    q = _squash(quote)
    if not q:
        return None
    steps = [_squash(s) for s in split_steps(solution, style)]
    for i, s in enumerate(steps, 1):
        if s == q:
            return i
    hits = [i for i, s in enumerate(steps, 1) if s and (q in s or s in q)]
    return hits[0] if len(hits) == 1 else None


@dataclass(frozen=True)
class ParsedMistake:
    solution: str | None
    wrong_step: int | None = None
    explanation: str = ""
    reason: str | None = None
    note: str = ""


def parse_injection(reply: str | None, reference_answer: str, style: str) -> ParsedMistake:
    """A careless-student reply: the wrong solution (ending "The answer is: X", X not the
    reference answer) and the explanation inside <explanation> tags."""
    if not reply or not reply.strip():
        return ParsedMistake(None, reason="empty_reply")
    m = _EXPLANATION.search(reply)
    if m is None or not m.group(1).strip():
        return ParsedMistake(None, reason="no_explanation")
    explanation = m.group(1).strip()
    body = _tidy(reply[: m.start()] + reply[m.end() :])
    ended = _end_at_final_answer(body)
    if ended is None:
        return ParsedMistake(None, explanation=explanation, reason="no_final_answer")
    solution, answer = ended
    if answers_match(answer, reference_answer):
        return ParsedMistake(None, explanation=explanation, reason="same_answer_as_reference", note=answer)
    wrong_step = None
    q = _WRONG_STEP_QUOTE.search(strip_markdown(explanation))
    if q:
        quote = q.group(1).splitlines()[0] if q.group(1).strip() else ""
        wrong_step = locate_quoted_step(solution, quote, style)
    if wrong_step is None:
        n = len(split_steps(solution, style))
        nums = {_to_int(t) for t in _ANY_STEP.findall(strip_markdown(explanation))}
        if len(nums) == 1 and 1 <= (k := nums.pop()) <= n:
            wrong_step = k
    return ParsedMistake(solution, wrong_step, explanation)


def _strip_phrase(text: str, phrase: str) -> str:
    """Drop the reflection phrase at the start of a continuation, as often as it was written
    ("Wait, ... Wait, ... Step 2 ..." happens: a model that repeats once may repeat twice)."""

    def core(s: str) -> str:
        return re.sub(r"[^a-z0-9]+", " ", s.lower()).strip()

    want = core(phrase)
    if not want:
        return text
    for _ in range(8):
        # walk forward over the reply until its letters cover the phrase's
        for end in range(len(phrase) // 2, min(len(text), len(phrase) * 2 + 8) + 1):
            if core(text[:end]) == want and (end == len(text) or not text[end].isalnum()):
                text = text[end:].lstrip(" \t.,;:!?\"'”…-*_").lstrip()
                break
        else:
            return text
    return text


# Our numbering of the attempt ("Step 3: "), as a re-typed line or a leaked label starts with it.
_NUMBER_LABEL = re.compile(r"[ \t]*(?:[-*>][ \t]*)?(?:\*\*|__)?step[ \t]*\d+[ \t]*[:.](?:\*\*|__)?[ \t]*", re.I)
_LEAKED_LABEL = re.compile(
    r"(?:(?<=\n)|(?<=^)|(?<=[.!?][ \t]))[ \t]*(?:#+[ \t]*)?(?:[-*>][ \t]*)?(?:\*\*|__)?step[ \t]*\d+[ \t]*:(?:\*\*|__)?[ \t]*",
    re.I,
)


def _alnum(s: str) -> str:
    return "".join(c for c in s.lower() if c.isalnum())


def _walk(text: str, want: str, skip_labels: bool) -> int | None:
    """The offset in `text` right after its letters and digits spell `want` from the start
    (everything else ignored; with `skip_labels`, one "Step N:" label at each line start too),
    else None."""
    i = j = 0
    line_start = True
    while j < len(want):
        if i >= len(text):
            return None
        if line_start and skip_labels:
            m = _NUMBER_LABEL.match(text, i)
            if m:
                i = m.end()
            line_start = False
            continue
        c = text[i]
        if c == "\n":
            line_start = True
        if c.isalnum():
            if c.lower() != want[j]:
                return None
            j += 1
        i += 1
    return i


def _skip_retyped(text: str, prefix: str, style: str, phrase: str) -> str:
    """The reply without a re-typed attempt at its start: the whole prefix (with or without the
    "Step N:" numbering the teacher was shown, on any lines) or only its last, wrong step. What
    follows it on the same line is kept (a one-line GSM8K prefix is often re-typed and continued
    in the same paragraph)."""
    steps = split_steps(prefix, style) if prefix.strip() else []
    if not steps:
        return text
    phrase_core = _alnum(phrase)

    def after(end: int) -> str:
        return text[end:].lstrip(" \t.,;:!?\"'”)*_")

    def at_boundary(end: int) -> bool:
        rest = after(end)
        return not rest.strip() or rest.startswith("\n") or (bool(phrase_core) and _alnum(rest).startswith(phrase_core))

    for candidate, whole in ((prefix, True), (steps[-1], False)):
        want = _alnum(candidate)
        if not want:
            continue
        for skip in (True, False):
            end = _walk(text, want, skip)
            if end is None:
                continue
            # A long re-typed attempt is one whatever follows; a short match, or the wrong step
            # alone, is one only when a new line or the phrase follows it (else the reply is
            # quoting the step it is about to correct: "4 * 3 = 14 is wrong ...").
            quoted = text.lstrip()[:1] in "\"'“‘`"
            if at_boundary(end) or (whole and len(want) >= 20 and not quoted):
                return after(end).strip()
    return text


def _drop_leaked_labels(text: str, prefix: str, style: str) -> str:
    """Remove "Step N:" labels copied from the numbered attempt the teacher was shown, unless the
    style numbers its steps that way (the built-in world) or the student's own prefix does."""
    if style == "world" or _LEAKED_LABEL.search(prefix):
        return text
    return _LEAKED_LABEL.sub("", text)


def parse_continuation(reply: str | None, phrase: str, prefix: str = "", style: str = "world") -> Parsed:
    """What a Fix & Continue / Fresh & Restart teacher wrote after the reflection phrase, cut at
    its final-answer line. A reply that re-typed the attempt (whole, numbered or not, or its wrong
    step) or the phrase (once or more) is trimmed, and "Step N:" labels leaked from the numbered
    attempt are removed."""
    if not reply or not reply.strip():
        return Parsed(reason="empty_reply")
    text = _tidy(reply)
    text = _strip_phrase(text, phrase)  # "<phrase> <re-typed attempt> ..." happens too
    text = _skip_retyped(text, prefix, style, phrase)
    text = _strip_phrase(text, phrase)
    text = _drop_leaked_labels(text, prefix, style).strip()
    if not text:
        return Parsed(reason="empty_reply")
    ended = _end_at_final_answer(text)
    if ended is None:
        return Parsed(reason="no_final_answer", note=text[-200:])
    if ended[0].startswith(ANSWER_STATEMENT):
        # nothing but the answer line: no correction to learn from (the method needs the reasoning)
        return Parsed(reason="answer_only", note=ended[0][:200])
    return Parsed(ended[0])


def parse_smoothed(reply: str | None) -> Parsed:
    """A patient-teacher rewrite: plain text ending "The answer is: X"."""
    if not reply or not reply.strip():
        return Parsed(reason="empty_reply")
    ended = _end_at_final_answer(_tidy(reply))
    if ended is None:
        return Parsed(reason="no_final_answer", note=reply.strip()[-200:])
    return Parsed(ended[0])
