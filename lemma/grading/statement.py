"""The project's own answer statement, "The answer is: X" (the paper's format), which every
solution the world generates, every trajectory a teacher writes and every SFT reference ends
with: its writer and the strict readers of that one line. (Finding an answer in free text is
lemma.grading.extract.)"""

from __future__ import annotations

import re

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
