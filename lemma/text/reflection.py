"""Joining a wrong prefix, a reflection phrase and a correction into one trajectory.

The phrase for each item is chosen deterministically from the configured list by hashing the
item's identity, so reruns pick the same phrase and edits to unrelated rows do not reshuffle it.
"""

from __future__ import annotations

import hashlib
import re
from difflib import SequenceMatcher

from lemma.grading.statement import without_answer_lines


def pick_phrase(phrases: list[str], *key_parts) -> str:
    if not phrases:
        raise ValueError("reflection_phrases is empty")
    digest = hashlib.sha256("\x1f".join(map(str, key_parts)).encode()).digest()
    return phrases[int.from_bytes(digest[:8], "big") % len(phrases)]


def join_trajectory(prefix: str, phrase: str, continuation: str, style: str = "world") -> str:
    """prefix, then the phrase on a new line, then the continuation after one space.

    The phrase starts a new line (a new paragraph in the math style, where a single line break
    ends a step only after a period) so the step splitter keeps the wrong prefix's steps intact
    and the reflection starts a step of its own; the continuation follows on the phrase's line
    because teachers write it as the rest of that sentence ("Wait, ... step 2 should use 36.")."""
    prefix, phrase, continuation = prefix.rstrip(), phrase.strip(), continuation.strip()
    if not prefix or not phrase or not continuation:
        raise ValueError("prefix, phrase and continuation must all be non-empty")
    sep = "\n\n" if style == "math" else "\n"
    return f"{prefix}{sep}{phrase} {continuation}"


# -- is a smoothed trajectory still one? ---------------------------------------------------------
# The smoothing teacher may only edit wording. A rewrite that dropped the wrong attempt, the moment
# of reflection or the corrected reasoning (down to a bare "The answer is: X", which the final
# filter would keep because its answer is right) teaches nothing of the method, so it is dropped
# with one of these reasons.
PREFIX_LOST = "prefix_lost"
REFLECTION_LOST = "reflection_lost"
CORRECTION_LOST = "correction_lost"

PREFIX_KEPT_SHARE = 0.8  # the prefix's words found, in order, at the start of the rewrite
CORRECTION_KEPT_SHARE = 0.5  # the correction's numbers found after the reflection
MIN_CORRECTION_WORDS = 6

_TOKEN = re.compile(r"[a-z]+|\d+(?:\.\d+)?")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?")
_CUE = re.compile(
    r"\b(?:wait|hold on|hmm+|actually|oops|on second thought|mistakes?|wrong|errors?|incorrect|"
    r"not (?:right|correct)|re-?check\w*|double-check\w*|re-?examin\w*|verify|suspicious|"
    r"should (?:be|have)|let me (?:check|look|re\w*)|that cannot be|went wrong)\b",
    re.I,
)
_STEP_LABEL = re.compile(r"^[ \t#*>-]*step[ \t]*\d+[ \t]*[:.]", re.I | re.M)


def _tokens(text: str) -> list[re.Match]:
    return list(_TOKEN.finditer(text.lower()))


def _body_numbers(text: str) -> set[str]:
    return set(_NUMBER.findall(without_answer_lines(text)))


def _reflection(text: str, phrase: str) -> re.Match | None:
    """The first sign of a change of mind in `text`: the configured phrase itself, or a cue word."""
    words = [re.escape(w) for w in phrase.split()]
    own = re.search(r"\s+".join(words), text, re.I) if words else None
    cue = _CUE.search(text)
    return min((m for m in (own, cue) if m), key=lambda m: m.start(), default=None)


def check_smoothed(smoothed: str, prefix: str, phrase: str, continuation: str) -> str | None:
    """None when `smoothed` still holds the three parts of the trajectory it was made from:
    the wrong prefix (its words in order at the start, up to light edits), a reflection after it
    (the phrase or any wording of a change of mind), and a correction that reasons its way to the
    end (words, and at least half of the continuation's numbers, after the reflection, not only a
    final answer line). Else the reason: prefix_lost, reflection_lost or correction_lost."""
    # The prefix's own answer line ("The answer is: 9" of a whole wrong attempt) may be reworded
    # ("That gives 9."), and must not be matched against the correction's answer line.
    # "Step N:" labels are layout: renumbering them, or dropping one, is a light edit.
    smoothed, prefix = _STEP_LABEL.sub("", smoothed), _STEP_LABEL.sub("", prefix)
    s_tok, p_tok = _tokens(smoothed), [m.group(0) for m in _tokens(without_answer_lines(prefix))]
    offset = 0  # where the kept prefix ends in `smoothed`
    if p_tok:
        window = [m.group(0) for m in s_tok[: 2 * len(p_tok) + 10]]
        blocks = SequenceMatcher(None, p_tok, window, autojunk=False).get_matching_blocks()
        if sum(b.size for b in blocks) < PREFIX_KEPT_SHARE * len(p_tok):
            return PREFIX_LOST
        last = max((b.b + b.size for b in blocks if b.size), default=0)
        offset = s_tok[last - 1].end() if last else 0
    rest = smoothed[offset:]
    cue = _reflection(rest, phrase)
    if cue is None:
        return REFLECTION_LOST
    after = rest[cue.end() :]
    if len(_tokens(without_answer_lines(after))) < MIN_CORRECTION_WORDS:
        return CORRECTION_LOST
    want = _body_numbers(continuation)
    if want and len(want & _body_numbers(after)) < CORRECTION_KEPT_SHARE * len(want):
        return CORRECTION_LOST
    return None
