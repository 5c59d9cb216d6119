"""The velocity's query and answer (``GET /opportunities/analytics/velocity``)."""

from __future__ import annotations

from rest_framework import serializers

from crm_project.core.api.fields import DateOrDateTimeQueryField
from crm_project.core.api.filters import MAX_USER_ID
from opportunities.models import OpportunityStage


class VelocityQuerySerializer(serializers.Serializer):
    start_date = DateOrDateTimeQueryField(required=False, help_text="First day of the stage moves counted.")
    end_date = DateOrDateTimeQueryField(required=False, help_text="Last day of the stage moves counted, inclusive.")
    owner_id = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_USER_ID, help_text="Only this owner's opportunities."
    )


def _days(help_text: str) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, read_only=True, help_text=help_text)


def _rate(help_text: str) -> serializers.FloatField:
    return serializers.FloatField(min_value=0, max_value=100, read_only=True, help_text=help_text)


class StageVelocitySerializer(serializers.Serializer):
    # The stages' own choice set (the open ones appear), so that clients share one stage enum.
    stage = serializers.ChoiceField(choices=OpportunityStage.choices, read_only=True, help_text="An open stage.")
    entered = serializers.IntegerField(read_only=True, help_text="Moves into the stage (creation included).")
    average_days = _days("Mean days spent in it by the entries that left it; null when none did.")
    median_days = _days("Median days spent in it by the entries that left it; null when none did.")
    moved_on_rate = _rate(
        "% of the entries whose next move went to an open stage further on or to closed_won (2 decimals)."
    )


class VelocitySerializer(serializers.Serializer):
    stages = StageVelocitySerializer(many=True, read_only=True)
    average_cycle_days = _days("Mean days from creation to the closed_won move; null when nothing was won.")
    win_rate_by_source = serializers.DictField(
        child=serializers.FloatField(), read_only=True, help_text="Lead source → won ÷ (won + lost) × 100."
    )
    win_rate_by_industry = serializers.DictField(
        child=serializers.FloatField(), read_only=True, help_text="Customer industry → won ÷ (won + lost) × 100."
    )
    average_won_value = serializers.FloatField(
        allow_null=True, read_only=True, help_text="Mean estimated_value of the wins; null when none."
    )
