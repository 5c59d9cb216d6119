"""
Document numbers: ``LEAD-YYYYMMDD-XXXX``, ``OPP-YYYYMMDD-XXXX``, ``CUST-XXXXXX``.

Each number comes from a counter row advanced by one ``INSERT ... ON CONFLICT DO UPDATE
... RETURNING`` statement inside the creating transaction. The row stays locked until that
transaction ends, so concurrent creators (threads, gunicorn workers, hosts) queue on it and
get distinct numbers; a rolled-back creation rolls its increment back too, so the numbers
stay contiguous. Never ``count() + 1`` or ``Max() + 1``: those race.
"""

from __future__ import annotations

import datetime

from django.db import connection
from django.utils import timezone

from .models import DailySequence

_ADVANCE_SQL = f"""
    INSERT INTO {DailySequence._meta.db_table} (prefix, period, last_value)
    VALUES (%s, %s, %s)
    ON CONFLICT (prefix, period)
    DO UPDATE SET last_value = {DailySequence._meta.db_table}.last_value + EXCLUDED.last_value
    RETURNING last_value
"""


def _advance(prefix: str, period: str, count: int) -> int:
    """Reserve ``count`` values of the counter and return the last one reserved."""
    if not connection.in_atomic_block:
        # Outside a transaction the counter row would be released before the record that
        # uses the number is written; numbers must be taken inside the creating transaction.
        raise RuntimeError("Document numbers must be allocated inside transaction.atomic().")
    with connection.cursor() as cursor:
        cursor.execute(_ADVANCE_SQL, [prefix, period, count])
        return int(cursor.fetchone()[0])


def reserve_daily_numbers(prefix: str, day: datetime.date, count: int) -> list[str]:
    """``count`` consecutive numbers of ``day``'s sequence; four digits, five after 9999."""
    period = day.strftime("%Y%m%d")
    last = _advance(prefix, period, count)
    return [f"{prefix}-{period}-{value:04d}" for value in range(last - count + 1, last + 1)]


def next_daily_numbers(prefix: str, count: int = 1) -> list[str]:
    """``count`` consecutive numbers of today's ``PREFIX-YYYYMMDD-XXXX`` sequence."""
    return reserve_daily_numbers(prefix, timezone.localdate(), count)


def next_daily_number(prefix: str) -> str:
    return next_daily_numbers(prefix, 1)[0]


def next_running_numbers(prefix: str, count: int = 1, width: int = 6) -> list[str]:
    """``count`` consecutive numbers of a sequence that never resets (``CUST-000042``)."""
    last = _advance(prefix, "", count)
    return [f"{prefix}-{value:0{width}d}" for value in range(last - count + 1, last + 1)]


def next_running_number(prefix: str, width: int = 6) -> str:
    return next_running_numbers(prefix, 1, width)[0]
