"""Serializer fields with the API's conventions: money, JSON shapes, ``*_id`` links, timestamps, choices."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.dateparse import parse_date
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from crm_project.core.dates import start_of

from .components import JSON_OBJECT
from .filters import DATE_OR_DATETIME_SCHEMA, MAX_USER_ID, DateOrDateTimeField

MONEY_MAX_DIGITS = 14  # 12 before the point, 2 after.
MONEY_DECIMAL_PLACES = 2
MONEY_MAX = Decimal("999999999999.99")
CENT = Decimal("0.01")
# An amount sent as text: digits, and at most 2 decimals (text is exact, so nothing is rounded).
MONEY_TEXT_PATTERN = r"^[0-9]{1,12}(\.[0-9]{1,2})?$"


class MoneyField(serializers.DecimalField):
    """
    A decimal with 2 places, ≥ 0, below 10¹²: a JSON number or a numeric string in, a JSON
    number out. A JSON number is a binary float to most clients (0.1 + 0.2 is
    0.30000000000000004), so its further decimals are rounded to the cent; text is exact and
    must already be in cents (``MONEY_TEXT_PATTERN``).
    """

    default_error_messages = {"invalid_text": 'Enter the amount as digits with at most 2 decimals, e.g. "1500.50".'}

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", MONEY_MAX_DIGITS)
        kwargs.setdefault("decimal_places", MONEY_DECIMAL_PLACES)
        kwargs.setdefault("min_value", Decimal("0"))
        if kwargs["max_digits"] == MONEY_MAX_DIGITS:
            kwargs.setdefault("max_value", MONEY_MAX)
        kwargs.setdefault("coerce_to_string", False)
        kwargs.setdefault("rounding", ROUND_HALF_UP)
        super().__init__(**kwargs)

    def run_validation(self, data=empty):
        # Before DRF's own checks, which would read "" as null.
        if isinstance(data, str) and not re.fullmatch(MONEY_TEXT_PATTERN, data):
            self.fail("invalid_text")
        return super().run_validation(data)

    def validate_precision(self, value: Decimal) -> Decimal:
        if value.is_finite() and value.adjusted() >= self.max_whole_digits:
            # Too large to round within the decimal context; refused as DRF would.
            self.fail("max_whole_digits", max_whole_digits=self.max_whole_digits)
        # The bounds apply to the amount as sent, before it is rounded to the cent.
        if self.max_value is not None and value > self.max_value:
            self.fail("max_value", max_value=self.max_value)
        if self.min_value is not None and value < self.min_value:
            self.fail("min_value", min_value=self.min_value)
        # "+ 0" turns a negative zero (-0.001 rounded) into zero.
        return super().validate_precision(value.quantize(CENT, rounding=ROUND_HALF_UP) + 0)


@extend_schema_field({"allOf": [JSON_OBJECT]})
class JSONObjectField(serializers.JSONField):
    """JSON that must be an object (``criteria``, ``benefits``)."""

    default_error_messages = {"not_an_object": "Must be a JSON object."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            self.fail("not_an_object")
        return value


@extend_schema_field({"type": "array", "items": {}})
class JSONListField(serializers.JSONField):
    """JSON that must be a list (``attachments``)."""

    default_error_messages = {"not_a_list": "Must be a JSON list."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not isinstance(value, list):
            self.fail("not_a_list")
        return value


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """
    A ``*_id`` link whose choices are what the requesting user may see. A record hidden from
    the user is reported exactly like one that does not exist, so its existence stays hidden.
    """

    def __init__(self, *, visible_to: Callable[[object], QuerySet], **kwargs):
        self._visible_to = visible_to
        kwargs.setdefault("pk_field", serializers.UUIDField())
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return self._visible_to(getattr(request, "user", None))


# Clients send user ids as numbers or as text ("owner_id": "42"): the digits are accepted too.
USER_ID_TEXT_PATTERN = r"^[0-9]{1,10}$"


@extend_schema_field(
    {
        "anyOf": [
            {"type": "integer", "minimum": 1, "maximum": MAX_USER_ID},
            {"type": "string", "pattern": USER_ID_TEXT_PATTERN},
        ]
    }
)
class ActiveUserField(serializers.PrimaryKeyRelatedField):
    """A ``*_id`` link to an active user (assignee, owner, representative): a number, or its digits."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", get_user_model().objects.filter(is_active=True))
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str):
            if not re.fullmatch(USER_ID_TEXT_PATTERN, data):
                self.fail("incorrect_type", data_type="text")
            data = int(data)
        if isinstance(data, int) and not isinstance(data, bool) and not 1 <= data <= MAX_USER_ID:
            # No user has this id; asking the database would overflow its integer column.
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


@extend_schema_field(
    {
        "type": "string",
        "format": "date-time",
        "description": "An ISO 8601 timestamp, or a date (YYYY-MM-DD) meaning its midnight in the CRM's time zone.",
    }
)
class TimestampField(serializers.DateTimeField):
    """An ISO 8601 timestamp; a plain date (``2025-12-31``) is accepted as its midnight in TIME_ZONE."""

    default_error_messages = {
        "invalid": (
            "Enter a date (YYYY-MM-DD, meaning its midnight in the CRM's time zone) or an ISO 8601 "
            "timestamp (YYYY-MM-DDThh:mm[:ss[.uuuuuu]] with Z or an offset such as +05:30)."
        )
    }

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                day = parse_date(value.strip())
            except ValueError:  # Well-formed but impossible, such as 2025-02-30.
                day = None
            if day is not None:
                midnight = start_of(day)
                try:
                    midnight.astimezone(dt.UTC)  # How the database will store it.
                except OverflowError:
                    self.fail("overflow")
                return midnight
        return super().to_internal_value(value)


@extend_schema_field(DATE_OR_DATETIME_SCHEMA)
class DateOrDateTimeQueryField(serializers.Field):
    """A query parameter that is a date or a timestamp; echoed back as given (ISO 8601)."""

    def to_internal_value(self, data):
        try:
            return DateOrDateTimeField(required=False).clean(data)
        except forms.ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None

    def to_representation(self, value: dt.date | dt.datetime | None):
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return serializers.DateTimeField().to_representation(start_of(value))
        return value.isoformat()


class NamedChoiceField(serializers.ChoiceField):
    """A choice whose refusal names the valid values: ``"call" is not a valid choice; choose one of: phone, ...``."""

    default_error_messages = {"invalid_choice": '"{input}" is not a valid choice; choose one of: {choices}.'}

    def to_internal_value(self, data):
        if data == "" and self.allow_blank:
            return ""
        try:
            return self.choice_strings_to_values[str(data)]
        except KeyError:
            self.fail("invalid_choice", input=data, choices=", ".join(self.choice_strings_to_values))
