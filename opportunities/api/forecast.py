"""The forecast's query and answer (``GET /opportunities/forecast``)."""

from __future__ import annotations

import datetime as dt
import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm_project.core.api.filters import MAX_USER_ID
from opportunities.selectors.forecast import MONTH, QUARTER, add_months

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
# Months the forecast covers at most in one answer (and the years a month may name): beyond,
# a request is a 400 naming the field rather than a long or impossible computation.
MAX_MONTHS = 120
FIRST_YEAR, LAST_YEAR = 1900, 9000


@extend_schema_field({"type": "string", "pattern": MONTH_PATTERN, "example": "2026-01"})
class MonthField(serializers.CharField):
    """``YYYY-MM``: read as the first day of that month."""

    default_error_messages = {
        "month": "Give a month as YYYY-MM, e.g. 2026-01.",
        "year": f"The year must be between {FIRST_YEAR} and {LAST_YEAR}.",
    }

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        if not re.fullmatch(MONTH_PATTERN, text):
            self.fail("month")
        year, month = int(text[:4]), int(text[5:])
        if not FIRST_YEAR <= year <= LAST_YEAR:
            self.fail("year")
        return dt.date(year, month, 1)


# A pattern rather than an enum: one model less in generated clients for a query parameter.
@extend_schema_field({"type": "string", "pattern": f"^({MONTH}|{QUARTER})$", "default": MONTH})
class PeriodField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=[MONTH, QUARTER], **kwargs)


class ForecastQuerySerializer(serializers.Serializer):
    period = PeriodField(required=False, default=MONTH, help_text="month (default) or quarter.")
    start = MonthField(
        required=False,
        help_text="The first month (YYYY-MM; default this month). A quarter starts at the quarter holding it.",
    )
    end = MonthField(
        required=False,
        help_text=f"The last month (YYYY-MM; default the start's period's last month); at most {MAX_MONTHS} months "
        "after start, never before it.",
    )
    owner_id = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_USER_ID,
        help_text="Only this owner's opportunities and quota (managers; a sales rep always gets their own).",
    )

    def validate(self, attrs):
        start = attrs.get("start") or self.context["today"].replace(day=1)
        if attrs.get("end") is not None and attrs["end"] < start:
            raise serializers.ValidationError({"end": "The end must not be before the start."})
        if attrs["period"] == QUARTER:
            start = start.replace(month=(start.month - 1) // 3 * 3 + 1)
        end = attrs.get("end") or add_months(start, 2 if attrs["period"] == QUARTER else 0)
        if (end.year - start.year) * 12 + end.month - start.month >= MAX_MONTHS:
            raise serializers.ValidationError({"end": f"At most {MAX_MONTHS} months from start to end."})
        return {**attrs, "start": start, "end": end}


def _figure(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=None, decimal_places=2, coerce_to_string=False, read_only=True, **kwargs)


class ForecastFiguresSerializer(serializers.Serializer):
    quota = _figure(allow_null=True, help_text="Σ of the quotas of its months; null when there is none.")
    closed_won = _figure(help_text="Σ estimated_value of the opportunities won in it (actual_close_date).")
    commit = _figure(help_text="Σ estimated_value of the open opportunities in commit expected to close in it.")
    best_case = _figure(help_text="Σ estimated_value of the open opportunities in best_case expected to close in it.")
    pipeline = _figure(help_text="Σ estimated_value of the open opportunities in pipeline expected to close in it.")
    weighted = _figure(help_text="Σ expected_revenue of the open opportunities expected to close in it.")
    attainment = _figure(allow_null=True, help_text="closed_won ÷ quota × 100; null without a quota.")


class ForecastPeriodSerializer(ForecastFiguresSerializer):
    period = serializers.CharField(read_only=True, help_text="YYYY-MM for a month, YYYY-Qn for a quarter.")
    # (the figures of ForecastFiguresSerializer)
    snapshot = ForecastFiguresSerializer(
        read_only=True,
        allow_null=True,
        help_text="The same figures as they stood on the period's first day (the daily snapshot); null when "
        "no snapshot was taken that day.",
    )


class ForecastSerializer(serializers.Serializer):
    periods = ForecastPeriodSerializer(many=True, read_only=True)
    totals = ForecastFiguresSerializer(read_only=True, help_text="The figures summed over the periods.")
