"""
JSON as the CRM writes it (the API, exports, reports), through orjson: money as numbers, several
times faster than the standard library on lists.
"""

from __future__ import annotations

import decimal
import json
from typing import Any

import orjson
from django.utils.functional import Promise
from rest_framework.utils.encoders import JSONEncoder


def _default(value: Any) -> Any:
    # Money leaves the API as a JSON number, never a string. 14 significant digits, the most a
    # money field holds, survive the trip through a double exactly.
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, Promise):
        # Lazy translation strings in error messages.
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(data: Any) -> bytes:
    try:
        return orjson.dumps(data, default=_default, option=orjson.OPT_NON_STR_KEYS)
    except TypeError as exc:
        if "64-bit" not in str(exc):
            raise
        # PostgreSQL's jsonb keeps numbers as decimals and writes them out in full, so a
        # client's 1e300 in a JSON field is read back as an integer of 301 digits: more than
        # orjson writes. The standard library writes any integer.
        return json.dumps(data, cls=JSONEncoder, ensure_ascii=False, separators=(",", ":")).encode()
