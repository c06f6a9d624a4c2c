"""Reading a judge's reply back into a verdict, tolerant of format drift: the first wrong step ("the first
wrong step is step N", "step three", bold, a period) or that the solution is correct, and the error
type (a label spelt, cased or abbreviated in many ways). Lines that echo the student's numbered
solution are never read as a verdict. A parser never raises: it returns a short reason
(empty_reply, no_step_statement, echo_not_verdict, step_out_of_range, no_type_statement,
unknown_type), which the teacher turns into `dropped="<stage>:<reason>"`."""

from __future__ import annotations

import re

from lemma.teacher.base import TypeSpec
from lemma.teacher.reply_text import NUM, Parsed, squash, strip_markdown, to_int

# ---------------------------------------------------------------------------------------------
# first wrong step
_WRONG = r"(?:wrong|incorrect|erroneous|mistaken|faulty|flawed|bad)"
_STEP_PATTERNS = [
    # "the first wrong step is step 3", "first incorrect step: Step #3", "first wrong step is 3"
    re.compile(
        r"first\s+" + _WRONG + r"\s+step\s*(?:is|:|=|would\s+be|occurs\s+(?:in|at))?\s*"
        r"(?:at\s+|in\s+)?(?:step\s*)?(?:#|no\.?\s*|number\s*)?" + NUM + r"\b",
        re.I,
    ),
    # "the first error is in step 3", "the first mistake occurs at step three"
    re.compile(
        r"first\s+(?:error|mistake)\s+(?:is|occurs|appears|happens|starts|begins)\s+(?:in|at)\s+"
        r"step\s*(?:#|no\.?\s*)?" + NUM + r"\b",
        re.I,
    ),
    # "step 3 is the first wrong step"
    re.compile(
        r"step\s*(?:#\s*)?" + NUM + r"\s+is\s+the\s+first\s+(?:" + _WRONG + r"|step\s+with\s+an?\s+(?:error|mistake))",
        re.I,
    ),
    # "the first wrong step is the third step"
    re.compile(r"first\s+" + _WRONG + r"\s+step\s+is\s+the\s+" + NUM + r"(?:st|nd|rd|th)?\s+(?:step|one)\b", re.I),
]
# The one bare form still read as a verdict: a last line that is nothing but a labelled step
# ("Answer: Step 4.", "Verdict - step 4"). A line that names a step and says more is not a verdict:
# it is typically the student's own numbered line echoed back ("Step 8: The answer is correct: 105").
_LABELLED_STEP_LINE = re.compile(
    r"^\s*(?:(?:final\s+)?(?:answer|verdict|conclusion)|first\s+" + _WRONG + r"\s+step)"
    r"\s*[:=\-–—]\s*(?:the\s+)?step\s*(?:#\s*)?" + NUM + r"\s*[.!]?\s*$",
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


def _without_echoes(text: str, shown: str) -> str:
    """The reply without lines that echo the numbered solution the judge was shown: a line that
    starts with the "Step N:" label of our numbering, or that occurs in `shown` as it stands.
    Verdicts are read only from what remains, so the student's own words never become one."""
    shown_lines = {squash(ln) for ln in shown.splitlines() if squash(ln)}
    shown_flat = squash(shown)
    keep = []
    for ln in text.splitlines():
        sq = squash(ln)
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
    step = to_int(token)
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
