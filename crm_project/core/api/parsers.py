"""
A JSON parser that refuses what would otherwise reach the database or the interpreter as
a crash: bodies over ``API_MAX_BODY_BYTES`` (413), nesting deeper than ``API_MAX_JSON_DEPTH``
(400; the standard parser lets a deep body raise RecursionError), NUL characters (400;
PostgreSQL text and jsonb reject them), invalid UTF-8 and malformed JSON (400).
"""

from __future__ import annotations

from typing import Any

import orjson
from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body is too large."
    default_code = "payload_too_large"


def _check_structure(data: Any, max_depth: int) -> None:
    """Walk the parsed value without recursion, checking depth and NUL characters."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise ParseError("JSON strings may not contain NUL (\\u0000) characters.")
        elif isinstance(value, (dict, list)):
            if depth > max_depth:
                raise ParseError(f"JSON is nested deeper than {max_depth} levels.")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and "\x00" in key:
                    raise ParseError("JSON keys may not contain NUL (\\u0000) characters.")
                stack.append((item, depth + 1))


class SafeJSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        limit = settings.API_MAX_BODY_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(f"Request body is larger than {limit} bytes.")
        if not raw:
            # An empty body on an action that takes none parses as an empty object; white
            # space alone is no JSON value (RFC 8259) and is refused below.
            return {}
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"Malformed JSON: {exc}") from None
        _check_structure(data, settings.API_MAX_JSON_DEPTH)
        return data
