"""
Date bounds as instants: a date means its midnight in TIME_ZONE (the business's "today"), and
an inclusive end date includes its whole day. Selectors, filters and commands all read bounds so.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
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


def check_range(
    start: dt.date | dt.datetime | None,
    end: dt.date | dt.datetime | None,
    *,
    start_name: str = "start_date",
    end_name: str = "end_date",  # The field the refusal is about.
) -> None:
    """
    An inclusive range (``start_date`` to ``end_date``) may not end before it starts: a 400 on
    ``end_name``. A range of one day (a date as both bounds) is fine; either bound may be absent.
    """
    if start is not None and end is not None and end_exclusive_of(end) <= start_of(start):
        raise ValidationError({end_name: f"The end of the range must not be before its start ({start_name})."})
