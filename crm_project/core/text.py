"""Words for people: counts with the right plural."""

from __future__ import annotations


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``plural(1, "lead")`` → ``"1 lead"``; ``plural(2, "lead")`` → ``"2 leads"``, with thousands separators."""
    word = singular if count == 1 else (plural_form or f"{singular}s")
    return f"{count:,} {word}"
