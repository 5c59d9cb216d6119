"""
CSV as the CRM writes it, for exports and reports: ISO 8601 times in TIME_ZONE, plain decimals,
JSON for structured values, and text that a spreadsheet will never run as a formula.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import IO, Any

from django.utils import timezone

from crm_project.core.jsonencoding import dumps

# Characters that make a spreadsheet treat a cell as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# A text that starts with the marker itself is marked too, so that reading back is exact.
_MARKED_STARTS = (*FORMULA_STARTS, "'")


def spreadsheet_safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula: a leading ``'`` marks it as text."""
    return "'" + text if text.startswith(_MARKED_STARTS) else text


def from_spreadsheet(text: str) -> str:
    """The inverse of ``spreadsheet_safe``, so that an export imports back unchanged."""
    return text[1:] if text.startswith("'") and text[1:].startswith(_MARKED_STARTS) else text


def csv_value(value: Any) -> str:
    """A value as an export writes it: ISO 8601 in TIME_ZONE, plain decimals, formula-safe text."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return f"{value:.2f}"  # Money and rates: two places, as the API gives them.
    if isinstance(value, (dt.date, int)):
        return str(value)
    if isinstance(value, (dict, list)):
        return spreadsheet_safe(dumps(value).decode())
    return spreadsheet_safe(str(value))


def write_csv(stream: IO[str], headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write a header and ``rows`` (values made safe by ``csv_value``); return the number of rows."""
    writer = csv.writer(stream)
    writer.writerow(headers)
    count = 0
    for row in rows:
        writer.writerow([csv_value(value) for value in row])
        count += 1
    return count
