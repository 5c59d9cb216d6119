"""
Lead shapes: one output serializer; input serializers for create and update (apart: only an
update may set ``status``); small bodies for the qualify and convert actions; the query
parameters and answer of follow-ups and analytics.
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm_project.core.api.duplicates import DuplicateCandidateSerializer
from crm_project.core.api.fields import (
    ActiveUserField,
    DateOrDateTimeQueryField,
    MoneyField,
    NamedChoiceField,
    TimestampField,
    VisibleRelatedField,
)
from crm_project.core.api.serializers import StrictModelSerializer, StrictSerializer, api_field_names, render
from crm_project.core.roles import system_actor
from customers.selectors import customer_list_visible_to
from leads.models import Lead, LeadSource, LeadStatus
from leads.selectors import lead_list_visible_to
from leads.services import CREATE_FIELDS

NOTE_MAX_LENGTH = 10_000

# --- the lead -------------------------------------------------------------------------------------


class LeadSerializer(serializers.ModelSerializer):
    # "" when unset: documented as a plain string (the default would promise a URL).
    website = serializers.CharField(read_only=True)
    estimated_deal_value = MoneyField(read_only=True, allow_null=True)
    assigned_to_id = serializers.IntegerField(read_only=True, allow_null=True)
    assigned_to_name = serializers.SerializerMethodField(help_text="The assignee's full name (or username).")
    converted_customer_id = serializers.UUIDField(read_only=True, allow_null=True)
    created_by_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Lead
        fields = [
            "id",
            "lead_number",
            *api_field_names(Lead, CREATE_FIELDS),
            "assigned_to_name",
            "status",
            "qualification_score",
            "is_qualified",
            "qualified_at",
            "last_contacted_at",
            "converted_customer_id",
            "converted_at",
            "created_by_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_assigned_to_name(self, lead: Lead) -> str | None:
        user = lead.assigned_to
        if user is None:
            return None
        return user.get_full_name() or user.get_username()


class LeadCreateSerializer(StrictModelSerializer):
    """What a client may send when creating a lead; a new lead is always ``new``."""

    estimated_deal_value = MoneyField(required=False, allow_null=True)
    assigned_to_id = ActiveUserField(
        source="assigned_to",
        required=False,
        allow_null=True,
        help_text="The sales rep working the lead; a rep may name only themselves (or null).",
    )
    next_follow_up_date = TimestampField(
        required=False,
        allow_null=True,
        help_text="When to follow up: an ISO 8601 timestamp, or a date meaning its midnight in the CRM's time zone.",
    )

    class Meta:
        model = Lead
        fields = api_field_names(Lead, CREATE_FIELDS)


class LeadUpdateSerializer(LeadCreateSerializer):
    """An update may also set ``status``: new, contacted or lost (qualify and convert do the rest)."""

    status = NamedChoiceField(
        choices=LeadStatus.choices,
        required=False,
        help_text="new, contacted or lost (a lost lead is reopened this way); qualified and converted "
        "come only from the qualify and convert actions.",
    )

    class Meta(LeadCreateSerializer.Meta):
        fields = [*LeadCreateSerializer.Meta.fields, "status"]


# --- actions --------------------------------------------------------------------------------------


class LeadQualifySerializer(StrictSerializer):
    qualification_score = serializers.IntegerField(min_value=0, max_value=100)
    is_qualified = serializers.BooleanField(
        default=True, help_text="true qualifies the lead; false withdraws a qualification."
    )
    notes = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=NOTE_MAX_LENGTH,
        help_text="Appended to the lead's notes, dated and signed.",
    )


class LeadConvertSerializer(StrictSerializer):
    customer_id = VisibleRelatedField(
        source="customer",
        visible_to=customer_list_visible_to,
        required=False,
        allow_null=True,
        help_text="An existing customer; without it a customer is created from the lead's company and contact.",
    )
    notes = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=NOTE_MAX_LENGTH,
        help_text="Appended to the lead's notes, dated and signed.",
    )


class LeadFollowUpQuerySerializer(serializers.Serializer):
    include_overdue = serializers.BooleanField(
        default=False, help_text="Also list open leads whose follow-up date has already passed."
    )
    assigned_to_id = serializers.IntegerField(
        required=False, min_value=1, max_value=2**31 - 1, help_text="Only leads assigned to this user."
    )


class LeadAnalyticsQuerySerializer(serializers.Serializer):
    start_date = DateOrDateTimeQueryField(required=False, help_text="First day counted (on created_at).")
    end_date = DateOrDateTimeQueryField(required=False, help_text="Last day counted, inclusive.")


def _counts_serializer(name: str, choices) -> type[serializers.Serializer]:
    """A ``{choice: count}`` object with every choice as a key, so the schema lists them."""
    return type(name, (serializers.Serializer,), {value: serializers.IntegerField() for value in choices.values})


LeadStatusCountsSerializer = _counts_serializer("LeadStatusCountsSerializer", LeadStatus)
LeadSourceCountsSerializer = _counts_serializer("LeadSourceCountsSerializer", LeadSource)


class LeadAnalyticsSummarySerializer(serializers.Serializer):
    total_leads = serializers.IntegerField()
    by_status = LeadStatusCountsSerializer()
    by_source = LeadSourceCountsSerializer()
    conversion_rate = serializers.FloatField(
        help_text="Converted ÷ total × 100, as a percentage with 2 decimals; 0 when there are no leads."
    )
    average_time_to_convert_days = serializers.FloatField(
        allow_null=True, help_text="Mean days from creation to conversion of the converted leads; null when none."
    )
    start_date = DateOrDateTimeQueryField(allow_null=True)
    end_date = DateOrDateTimeQueryField(allow_null=True)


# A pattern rather than an enum: one model less in generated clients for a query parameter.
@extend_schema_field({"type": "string", "pattern": "^month$", "default": "month"})
class CohortByField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=["month"], **kwargs)


class LeadCohortsQuerySerializer(serializers.Serializer):
    by = CohortByField(required=False, default="month", help_text="The cohort: month of creation (the only one).")
    start_date = DateOrDateTimeQueryField(required=False, help_text="First day counted (on created_at).")
    end_date = DateOrDateTimeQueryField(required=False, help_text="Last day counted, inclusive.")


class LeadCohortSerializer(serializers.Serializer):
    cohort = serializers.CharField(help_text="The month the leads were created in, YYYY-MM.")
    created = serializers.IntegerField()
    contacted = serializers.IntegerField(help_text="Leads that ever reached contacted (qualified and converted too).")
    qualified = serializers.IntegerField(help_text="Leads that ever reached qualified (converted too).")
    converted = serializers.IntegerField()
    median_days_to_convert = serializers.FloatField(
        allow_null=True, help_text="Median days from creation to conversion; null without conversions."
    )


class LeadImportRequestSerializer(serializers.Serializer):
    """The import's form (multipart): a CSV in the columns ``export_leads`` writes, and how to take it."""

    file = serializers.FileField(
        help_text="CSV UTF-8 (with or without a BOM); row 1 names the columns: company_name, contact_person and "
        "email are required, assigned_to is a username."
    )
    dry_run = serializers.BooleanField(default=False, help_text="Check every row; create nothing.")
    skip_invalid = serializers.BooleanField(
        default=False, help_text="Create the valid rows and report the invalid ones (otherwise all or nothing)."
    )
    assign_to_id = ActiveUserField(
        source="assign_to", required=False, allow_null=True, help_text="Assignee of the rows without one."
    )

    def validate_file(self, upload):
        limit = settings.API_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise serializers.ValidationError(f"The file is larger than {limit:,} bytes.")
        return upload


def webhook_data(lead) -> dict:
    """
    The lead as the API renders it to a manager: what its webhook events carry. Rendered from
    the service's own instance, as saved (a lead's representation needs no more than its row and
    its assignee): a lead's change costs no second read for its event.
    """
    return render(LeadSerializer, lead)


def webhook_data_many(leads) -> dict:
    """``webhook_data`` of many leads (an import, a reassignment), by id: one query per thousand."""
    rendered = {}
    for start in range(0, len(leads), 1000):
        ids = [lead.pk for lead in leads[start : start + 1000]]
        rows = list(lead_list_visible_to(system_actor()).filter(pk__in=ids))
        rendered.update({row.pk: data for row, data in zip(rows, LeadSerializer(rows, many=True).data, strict=True)})
    return rendered


class LeadDuplicateSerializer(DuplicateCandidateSerializer):
    lead_number = serializers.CharField(read_only=True)
