"""Communication shapes: output, input (create and update), engagement query and answer."""

from __future__ import annotations

from django.db.models import BigIntegerField
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from communications.models import Communication
from communications.selectors import communication_list_visible_to
from communications.services import EDITABLE_FIELDS
from crm_project.core.api.fields import ActiveUserField, DateOrDateTimeQueryField, JSONListField, VisibleRelatedField
from crm_project.core.api.serializers import StrictModelSerializer, api_field_names, render
from crm_project.core.dates import check_range
from crm_project.core.roles import system_actor
from customers.selectors import customer_list_visible_to
from leads.selectors import lead_list_visible_to
from opportunities.selectors import opportunity_list_visible_to

# The column is a 32-bit integer on PostgreSQL; larger values are refused with a 400.
MAX_DURATION_MINUTES = 2_147_483_647


class CommunicationSerializer(serializers.ModelSerializer):
    customer_id = serializers.UUIDField(read_only=True, allow_null=True)
    customer_name = serializers.CharField(source="customer.company_name", read_only=True, allow_null=True)
    lead_id = serializers.UUIDField(read_only=True, allow_null=True)
    opportunity_id = serializers.UUIDField(read_only=True, allow_null=True)
    our_representative_id = serializers.IntegerField(read_only=True, allow_null=True)
    representative_name = serializers.SerializerMethodField()
    attachments = JSONListField(read_only=True)
    is_overdue = serializers.BooleanField(
        read_only=True, help_text="A required follow-up, not completed, whose date has passed."
    )

    class Meta:
        model = Communication
        fields = [
            "id",
            *api_field_names(Communication, EDITABLE_FIELDS),
            "customer_name",
            "representative_name",
            "follow_up_completed",
            "follow_up_completed_at",
            "is_overdue",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_representative_name(self, communication) -> str | None:
        representative = communication.our_representative
        if representative is None:
            return None
        return representative.get_full_name() or representative.get_username()


class CommunicationInputSerializer(StrictModelSerializer):
    customer_id = VisibleRelatedField(
        source="customer", visible_to=customer_list_visible_to, required=False, allow_null=True
    )
    lead_id = VisibleRelatedField(source="lead", visible_to=lead_list_visible_to, required=False, allow_null=True)
    opportunity_id = VisibleRelatedField(
        source="opportunity", visible_to=opportunity_list_visible_to, required=False, allow_null=True
    )
    our_representative_id = ActiveUserField(
        source="our_representative",
        required=False,
        help_text="Defaults to the current user; a sales rep may name only themselves.",
    )
    duration_minutes = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=MAX_DURATION_MINUTES
    )
    attachments = JSONListField(required=False, help_text="A JSON list (file names, links or objects).")

    class Meta:
        model = Communication
        fields = api_field_names(Communication, EDITABLE_FIELDS)
        extra_kwargs = {
            "communication_date": {"help_text": "Defaults to now. A plain date means its midnight."},
            "follow_up_date": {"help_text": "Required when requires_follow_up is true."},
        }


# --- engagement analytics -----------------------------------------------------------------


class EngagementQuerySerializer(serializers.Serializer):
    start_date = DateOrDateTimeQueryField(required=False, help_text="From this date or timestamp (inclusive).")
    end_date = DateOrDateTimeQueryField(
        required=False, help_text="To this date (the whole day) or timestamp (inclusive)."
    )
    representative_id = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=BigIntegerField.MAX_BIGINT,
        help_text="Only this representative's communications.",
    )
    customer_id = serializers.UUIDField(required=False, help_text="Only communications about this customer.")

    def to_internal_value(self, data):
        # An empty parameter (``?start_date=``) means no such filter, as on the lists.
        return super().to_internal_value({name: value for name, value in data.items() if value != ""})

    def validate(self, attrs):
        check_range(attrs.get("start_date"), attrs.get("end_date"))
        return attrs


class EngagementByTypeSerializer(serializers.Serializer):
    # One count per CommunicationType (a test keeps the two lists equal).
    phone = serializers.IntegerField()
    email = serializers.IntegerField()
    meeting = serializers.IntegerField()
    video_call = serializers.IntegerField()
    chat = serializers.IntegerField()
    sms = serializers.IntegerField()
    visit = serializers.IntegerField()
    other = serializers.IntegerField()


class EngagementByDirectionSerializer(serializers.Serializer):
    inbound = serializers.IntegerField()
    outbound = serializers.IntegerField()


class EngagementByRepresentativeSerializer(serializers.Serializer):
    representative_id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField(allow_null=True)
    count = serializers.IntegerField()
    total_duration_minutes = serializers.IntegerField()


class EngagementFollowUpsSerializer(serializers.Serializer):
    required = serializers.IntegerField()
    completed = serializers.IntegerField()
    overdue = serializers.IntegerField()
    completion_rate = serializers.FloatField(help_text="completed ÷ required × 100, 2 decimals; 0 when none.")


class EngagementSummarySerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_type = EngagementByTypeSerializer()
    by_direction = EngagementByDirectionSerializer()
    by_representative = EngagementByRepresentativeSerializer(many=True)
    average_duration_minutes = serializers.FloatField(
        allow_null=True, help_text="Over the communications that have a duration, 2 decimals; null when none has."
    )
    customers_contacted = serializers.IntegerField(help_text="Distinct customers the communications concern.")
    follow_ups = EngagementFollowUpsSerializer()
    start_date = DateOrDateTimeQueryField(allow_null=True)
    end_date = DateOrDateTimeQueryField(allow_null=True)


def webhook_data(communication) -> dict:
    """The communication as the API renders it to a manager: what its webhook events carry."""
    return render(CommunicationSerializer, communication_list_visible_to(system_actor()).get(pk=communication.pk))
