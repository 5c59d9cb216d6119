"""Segment shapes: the record in and out, membership bodies and answers, performance."""

from __future__ import annotations

from rest_framework import serializers

from crm_project.core.api.components import NamedSchema
from crm_project.core.api.fields import DateOrDateTimeQueryField, JSONObjectField, MoneyField
from crm_project.core.api.serializers import StrictModelSerializer, StrictSerializer, api_field_names, render
from crm_project.core.dates import check_range
from customers.api.serializers import CustomerSerializer
from segments.models import PRIORITY_MAX, Segment
from segments.services import EDITABLE_FIELDS, MAX_CUSTOMER_IDS

TOTAL_MAX_DIGITS = 20  # Sums of many money values outgrow a single value's 14 digits.


class SegmentSerializer(serializers.ModelSerializer):
    criteria = JSONObjectField(read_only=True)
    benefits = JSONObjectField(read_only=True)

    class Meta:
        model = Segment
        fields = [
            "id",
            "name",
            "description",
            "code",
            "criteria",
            "is_active",
            "priority",
            "benefits",
            "auto_refresh",
            "customer_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class SegmentInputSerializer(StrictModelSerializer):
    criteria = JSONObjectField(
        required=False, help_text="Known keys are evaluated (see matching-customers); others are kept and reported."
    )
    benefits = JSONObjectField(required=False)
    priority = serializers.IntegerField(
        required=False, min_value=0, max_value=PRIORITY_MAX, help_text="Lower comes first."
    )

    class Meta:
        model = Segment
        fields = api_field_names(Segment, EDITABLE_FIELDS)


# --- membership -------------------------------------------------------------------------------

_CUSTOMER_IDS_SCHEMA = {
    "type": "array",
    "items": {"type": "string", "format": "uuid"},
    "maxItems": MAX_CUSTOMER_IDS,
}


class CustomerIdsSerializer(StrictSerializer):
    """``{"customer_ids": [...], "segment_id": ...}``, or the bare array of ids."""

    customer_ids = serializers.ListField(child=serializers.UUIDField(), max_length=MAX_CUSTOMER_IDS)
    segment_id = serializers.UUIDField(required=False, help_text="Optional; if given, the segment of the path.")

    def to_internal_value(self, data):
        if isinstance(data, list):
            data = {"customer_ids": data}
        return super().to_internal_value(data)

    def validate_segment_id(self, value):
        if value != self.context["segment"].pk:
            raise serializers.ValidationError("Must be the id of the segment in the path.")
        return value


CUSTOMER_IDS_REQUEST = NamedSchema(
    "SegmentMembershipRequest",
    {
        "oneOf": [
            NamedSchema(
                "CustomerIdsRequest",
                {
                    "type": "object",
                    "properties": {
                        "customer_ids": _CUSTOMER_IDS_SCHEMA,
                        "segment_id": {
                            "type": "string",
                            "format": "uuid",
                            "description": "Optional; if given, the segment of the path.",
                        },
                    },
                    "required": ["customer_ids"],
                },
            ),
            NamedSchema(
                "CustomerIdListRequest", {**_CUSTOMER_IDS_SCHEMA, "description": "The customer ids alone, as a list."}
            ),
        ],
        "description": 'The customer ids: `{"customer_ids": [...]}`, or the bare list of ids.',
    },
)


class AssignResultSerializer(serializers.Serializer):
    segment_id = serializers.UUIDField()
    assigned = serializers.IntegerField(help_text="Customers added to the segment now.")
    already_assigned = serializers.IntegerField(help_text="Customers that were in it already.")
    customer_count = serializers.IntegerField()


class RemoveResultSerializer(serializers.Serializer):
    segment_id = serializers.UUIDField()
    removed = serializers.IntegerField(help_text="Customers taken out of the segment now.")
    not_assigned = serializers.IntegerField(help_text="Customers that were not in it.")
    customer_count = serializers.IntegerField()


class ApplyCriteriaResultSerializer(AssignResultSerializer):
    unrecognized_criteria = serializers.ListField(
        child=serializers.CharField(), help_text="Criteria keys the CRM does not evaluate (kept, never guessed at)."
    )


class MatchingCustomersPageSerializer(serializers.Serializer):
    """A page of customers, plus the criteria keys that were not evaluated."""

    count = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    total_pages = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = CustomerSerializer(many=True)
    unrecognized_criteria = serializers.ListField(
        child=serializers.CharField(), help_text="Criteria keys the CRM does not evaluate (kept, never guessed at)."
    )


# --- performance ------------------------------------------------------------------------------


class PerformanceQuerySerializer(serializers.Serializer):
    start_date = DateOrDateTimeQueryField(required=False, help_text="Inclusive; a date or a timestamp.")
    end_date = DateOrDateTimeQueryField(required=False, help_text="Inclusive; a date or a timestamp.")

    def validate(self, attrs):
        check_range(attrs.get("start_date"), attrs.get("end_date"))
        return attrs


class OpportunityFiguresSerializer(serializers.Serializer):
    open_count = serializers.IntegerField(help_text="Open opportunities, whatever their dates.")
    open_value = MoneyField(
        read_only=True, max_digits=TOTAL_MAX_DIGITS, help_text="Σ estimated_value of the open ones."
    )
    weighted_value = MoneyField(
        read_only=True, max_digits=TOTAL_MAX_DIGITS, help_text="Σ expected_revenue of the open ones."
    )
    won_count = serializers.IntegerField(help_text="Won, closed within the range.")
    won_value = MoneyField(read_only=True, max_digits=TOTAL_MAX_DIGITS)
    lost_count = serializers.IntegerField(help_text="Lost, closed within the range.")
    win_rate = serializers.DecimalField(
        max_digits=5, decimal_places=2, coerce_to_string=False, help_text="won ÷ (won + lost) × 100; 0 when none."
    )


class SegmentPerformanceSerializer(serializers.Serializer):
    segment_id = serializers.UUIDField()
    customer_count = serializers.IntegerField()
    active_customers = serializers.IntegerField()
    total_annual_spend = MoneyField(read_only=True, max_digits=TOTAL_MAX_DIGITS)
    opportunities = OpportunityFiguresSerializer()
    communications_count = serializers.IntegerField(help_text="Dated within the range.")
    last_communication_at = serializers.DateTimeField(allow_null=True, help_text="The latest within the range.")


def webhook_data(segment) -> dict:
    """The segment as the API renders it to a manager: what its webhook events carry."""
    return render(SegmentSerializer, segment)
