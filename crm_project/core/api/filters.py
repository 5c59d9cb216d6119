"""Query-parameter building blocks shared by every list: ordering, dates, ids."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter

from crm_project.core.dates import end_exclusive_of, is_representable_bound, start_of


class StrictOrderingFilter(OrderingFilter):
    """``?ordering=`` that answers 400 naming the field instead of silently ignoring it."""

    def get_ordering(self, request, queryset, view):
        params = request.query_params.get(self.ordering_param)
        if not params:
            return self.get_default_ordering(view)
        fields = [param.strip() for param in params.split(",") if param.strip()]
        valid = {name for name, _label in self.get_valid_fields(queryset, view, {"request": request})}
        unknown = [field for field in fields if field.lstrip("-") not in valid]
        if unknown:
            raise ValidationError(
                {
                    self.ordering_param: [
                        f"Cannot order by {', '.join(unknown)}. Choose from: {', '.join(sorted(valid))}."
                    ]
                }
            )
        # A stable tie-breaker, so pages never repeat or skip rows of equal value.
        return [*fields, "-pk"] if "pk" not in {f.lstrip("-") for f in fields} else fields

    def get_schema_operation_parameters(self, view):
        params = super().get_schema_operation_parameters(view)
        fields = getattr(view, "ordering_fields", None)
        if params and isinstance(fields, (list, tuple)):
            choices = [prefix + field for field in fields for prefix in ("", "-")]
            params[0]["description"] = "Order by one or more fields, comma-separated; `-` for descending."
            # A comma-separated list of known fields, exactly what get_ordering() accepts.
            params[0]["schema"] = {"type": "array", "items": {"type": "string", "enum": choices}}
            params[0]["style"] = "form"
            params[0]["explode"] = False
        return params


class DateOrDateTimeField(forms.Field):
    """
    A query value that is either a date (``2025-12-31``) or an ISO 8601 timestamp. A value at
    the edge of the calendar that cannot become instants in UTC (``9999-12-31`` has no day
    after it) is refused here, as a 400, rather than crashing the query.
    """

    default_error_messages = {
        "invalid": "Enter a date (YYYY-MM-DD) or an ISO 8601 timestamp.",
        "out_of_range": "The date is outside the supported range.",
    }

    def to_python(self, value):
        if value in self.empty_values:
            return None
        value = str(value).strip()
        try:
            parsed = parse_datetime(value) if ("T" in value or " " in value) else parse_date(value)
        except ValueError:  # Well-formed but impossible, such as 2025-02-30.
            parsed = None
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if not is_representable_bound(parsed):
            raise forms.ValidationError(self.error_messages["out_of_range"], code="out_of_range")
        if isinstance(parsed, dt.datetime) and timezone.is_aware(parsed):
            # The same instant in UTC: PostgreSQL refuses UTC offsets beyond ±15:59, which
            # ISO 8601 allows (up to ±23:59).
            parsed = parsed.astimezone(dt.UTC)
        return parsed


class StrictBooleanField(forms.Field):
    """``true``/``false`` (also 1/0, yes/no); anything else is an error, not "no filter"."""

    default_error_messages = {"invalid": "Enter true or false."}
    TRUE = {"true", "1", "yes", "on"}
    FALSE = {"false", "0", "no", "off"}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


@extend_schema_field({"type": "boolean"})
class StrictBooleanFilter(django_filters.Filter):
    field_class = StrictBooleanField


# User ids are 32-bit integers (Django's auth.User); larger values cannot name a user.
MAX_USER_ID = 2**31 - 1


class UserIdField(forms.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_USER_ID)
        super().__init__(**kwargs)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_USER_ID})
class UserIdFilter(django_filters.NumberFilter):
    """A user id: a whole number in range (``1.5`` or ``10**30`` is a 400, not a 500 or a silent match)."""

    field_class = UserIdField


class StrictUUIDField(forms.UUIDField):
    def to_python(self, value):
        # Django strips a value before reading it, so spaces alone would mean "no filter".
        if isinstance(value, str) and value and not value.strip():
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class UUIDFilter(django_filters.UUIDFilter):
    """A record's id: refused (400) unless it is one; left out (``?customer_id=``) it filters nothing."""

    field_class = StrictUUIDField


DATE_OR_DATETIME_SCHEMA = {
    "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}],
    "description": "A date (YYYY-MM-DD, from midnight in the CRM's time zone) or an ISO 8601 timestamp.",
    "example": "2025-12-31",
}


@extend_schema_field(DATE_OR_DATETIME_SCHEMA)
class DateOrDateTimeFilter(django_filters.Filter):
    """A filter whose value is a date or a timestamp; subclasses or ``method=`` apply it."""

    field_class = DateOrDateTimeField


class DateFromFilter(DateOrDateTimeFilter):
    """``field >= bound``; a date bound starts at its midnight in TIME_ZONE."""

    def filter(self, qs, value):
        if value is None:
            return qs
        return qs.filter(**{f"{self.field_name}__gte": start_of(value)})


class DateToFilter(DateOrDateTimeFilter):
    """``field <= bound``, inclusive; a date bound includes that whole day."""

    def filter(self, qs, value):
        if value is None:
            return qs
        return qs.filter(**{f"{self.field_name}__lt": end_exclusive_of(value)})


class NamedChoiceFormField(django_filters.fields.ChoiceField):
    def validate(self, value):
        try:
            super().validate(value)
        except forms.ValidationError as exc:
            if exc.code != "invalid_choice":
                raise
            valid = ", ".join(str(choice) for choice, _label in self.choices if choice != "")
            raise forms.ValidationError(
                f"{value} is not a valid choice; choose one of: {valid}.", code="invalid_choice"
            ) from None


class NamedChoiceFilter(django_filters.ChoiceFilter):
    """``?status=bogus`` is a 400 that names the valid values."""

    field_class = NamedChoiceFormField
