"""
Date bounds as instants: a date means its midnight in TIME_ZONE (the business's "today"), and
an inclusive end date includes its whole day. Selectors, filters and commands all read bounds so.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def start_of(value: dt.date | dt.datetime) -> dt.datetime:
    """The instant a bound starts: a date means its midnight in TIME_ZONE."""
    if isinstance(value, dt.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    return timezone.make_aware(dt.datetime.combine(value, dt.time.min))


def end_exclusive_of(value: dt.date | dt.datetime) -> dt.datetime:
    """The first instant after an inclusive bound: a date includes its whole day."""
    if isinstance(value, dt.datetime):
        return start_of(value) + dt.timedelta(microseconds=1)
    return start_of(value + dt.timedelta(days=1))


def is_representable_bound(value: dt.date | dt.datetime) -> bool:
    """Whether a date or timestamp bound can become instants in UTC (9999-12-31 has no day after)."""
    try:
        start_of(value).astimezone(dt.UTC)
        end_exclusive_of(value).astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return False
    return True
