"""Joining a wrong prefix, a reflection phrase and a correction into one trajectory.

The phrase for each item is chosen deterministically from the configured list by hashing the
item's identity, so reruns pick the same phrase and edits to unrelated rows do not reshuffle it.
"""

from __future__ import annotations

import hashlib


def pick_phrase(phrases: list[str], *key_parts) -> str:
    if not phrases:
        raise ValueError("reflection_phrases is empty")
    digest = hashlib.sha256("\x1f".join(map(str, key_parts)).encode()).digest()
    return phrases[int.from_bytes(digest[:8], "big") % len(phrases)]


def join_trajectory(prefix: str, phrase: str, continuation: str) -> str:
    """prefix, then the phrase on a new line, then the continuation after one space.

    The phrase starts a new line so the step splitter keeps the wrong prefix's steps intact and the
    reflection is its own step; the continuation follows on the phrase's line because teachers write
    it as the rest of that sentence ("Wait, ... step 2 should use 36.")."""
    prefix, phrase, continuation = prefix.rstrip(), phrase.strip(), continuation.strip()
    if not prefix or not phrase or not continuation:
        raise ValueError("prefix, phrase and continuation must all be non-empty")
    return f"{prefix}\n{phrase} {continuation}"
