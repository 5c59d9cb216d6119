"""Words for people: counts with the right plural, a colleague's name, dates that read at a glance."""

from __future__ import annotations

import datetime as dt

from django.utils import dateformat, timezone


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``plural(1, "lead")`` → ``"1 lead"``; ``plural(2, "lead")`` → ``"2 leads"``, with thousands separators."""
    word = singular if count == 1 else (plural_form or f"{singular}s")
    return f"{count:,} {word}"


def person_name(user) -> str:
    """A user as colleagues know them: the full name, else the username."""
    return user.get_full_name() or user.get_username()


def _local(value: dt.date | dt.datetime) -> dt.date | dt.datetime:
    return timezone.localtime(value) if isinstance(value, dt.datetime) and timezone.is_aware(value) else value


def day(value: dt.date | dt.datetime) -> str:
    """``15 Dec 2025``: short, and the same in every locale's reading (no 12/11 vs 11/12)."""
    return dateformat.format(_local(value), "j M Y")


def day_and_time(value: dt.datetime) -> str:
    """``15 Dec 2025 10:30``, in TIME_ZONE."""
    return dateformat.format(_local(value), "j M Y H:i")
