"""Serializer fields with the contract's conventions: money, JSON shapes, ``*_id`` links."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.dateparse import parse_date
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .filters import DATE_OR_DATETIME_SCHEMA, DateOrDateTimeField, start_of

MONEY_MAX_DIGITS = 14  # 12 before the point, 2 after (contract).
MONEY_DECIMAL_PLACES = 2


class MoneyField(serializers.DecimalField):
    """A decimal with 2 places, ≥ 0; a JSON number or numeric string in, a JSON number out."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", MONEY_MAX_DIGITS)
        kwargs.setdefault("decimal_places", MONEY_DECIMAL_PLACES)
        kwargs.setdefault("min_value", Decimal("0"))
        kwargs.setdefault("coerce_to_string", False)
        super().__init__(**kwargs)


@extend_schema_field({"type": "object", "additionalProperties": {}})
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


class ActiveUserField(serializers.PrimaryKeyRelatedField):
    """A ``*_id`` link to an active user (assignee, owner, representative)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", get_user_model().objects.filter(is_active=True))
        super().__init__(**kwargs)


@extend_schema_field(
    {
        "type": "string",
        "format": "date-time",
        "description": "An ISO 8601 timestamp, or a date (YYYY-MM-DD) meaning its midnight in TIME_ZONE.",
    }
)
class TimestampField(serializers.DateTimeField):
    """An ISO 8601 timestamp; a plain date (``2025-12-31``) is accepted as its midnight in TIME_ZONE."""

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
