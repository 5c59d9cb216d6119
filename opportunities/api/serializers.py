"""
Opportunity shapes: the output serializer, the input serializer for create and update, the
close body, the stage history rows and the pipeline statistics.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm_project.core.api.components import JSON_OBJECT, NamedSchema
from crm_project.core.api.fields import (
    ActiveUserField,
    MoneyField,
    NamedChoiceField,
    TimestampField,
    VisibleRelatedField,
)
from crm_project.core.api.filters import MAX_USER_ID
from crm_project.core.api.schema import BLANK_TEXT_PATTERN, VISIBLE_CHARACTER_PATTERN
from crm_project.core.api.serializers import StrictModelSerializer, StrictSerializer, api_field_names, render
from crm_project.core.roles import system_actor
from customers.selectors import customer_list_visible_to
from leads.selectors import lead_list_visible_to
from opportunities.models import (
    CLOSED_STAGES,
    ForecastCategory,
    Opportunity,
    OpportunityStage,
    OpportunityStageChange,
)
from opportunities.selectors import opportunity_list_visible_to
from opportunities.services import EDITABLE_FIELDS

PRODUCTS_SCHEMA = {
    "oneOf": [JSON_OBJECT, {"type": "array", "items": {}}],
    "description": 'What the customer is interested in, e.g. `{"categories": ["Jackets"], "quantity": 500}`.',
}


CLOSING_STAGES = [stage for stage in OpportunityStage.values if stage in CLOSED_STAGES]


class StageLeftField(serializers.ChoiceField):
    """The stage a change left. An opportunity's creation left none: stored blank, sent as null."""

    def __init__(self, **kwargs):
        super().__init__(choices=OpportunityStage.choices, allow_null=True, **kwargs)

    def to_representation(self, value):
        return super().to_representation(value) or None


@extend_schema_field(PRODUCTS_SCHEMA)
class ProductsField(serializers.JSONField):
    """``products_interested``: a JSON object or list; anything else is a 400."""

    default_error_messages = {"not_object_or_list": "Must be a JSON object or list."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not isinstance(value, (dict, list)):
            self.fail("not_object_or_list")
        return value


class OpportunitySerializer(serializers.ModelSerializer):
    customer_id = serializers.UUIDField(read_only=True)
    customer_name = serializers.CharField(source="customer.company_name", read_only=True)
    owner_id = serializers.IntegerField(read_only=True, allow_null=True)
    lead_id = serializers.UUIDField(read_only=True, allow_null=True)
    estimated_value = MoneyField(read_only=True)
    expected_revenue = MoneyField(read_only=True)
    products_interested = ProductsField(read_only=True)
    is_closed = serializers.BooleanField(read_only=True)
    is_won = serializers.BooleanField(read_only=True)

    class Meta:
        model = Opportunity
        fields = [
            "id",
            "opportunity_number",
            *api_field_names(Opportunity, EDITABLE_FIELDS),
            "customer_name",
            "expected_revenue",
            "actual_close_date",
            "loss_reason",
            "is_closed",
            "is_won",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class OpportunityInputSerializer(StrictModelSerializer):
    """
    Create and update (PUT and PATCH both partial). Numbers, ``expected_revenue``, the
    close date and the loss reason are not here: only the services and ``close`` set them.
    """

    customer_id = VisibleRelatedField(
        source="customer",
        visible_to=customer_list_visible_to,
        help_text="The customer. Changing it moves the opportunity's communications to the new customer too.",
    )
    lead_id = VisibleRelatedField(
        source="lead",
        visible_to=lead_list_visible_to,
        required=False,
        allow_null=True,
        help_text="The lead it came from. Changing it moves the opportunity's communications about a lead "
        "to the new lead too.",
    )
    owner_id = ActiveUserField(
        source="owner",
        required=False,
        allow_null=True,
        help_text="Defaults to you; an active sales rep or manager. Sales reps may only own it themselves.",
    )
    estimated_value = MoneyField()
    probability = serializers.IntegerField(min_value=0, max_value=100, required=False, help_text="0–100 (default 10).")
    stage = NamedChoiceField(
        choices=OpportunityStage.choices,
        required=False,
        help_text="An open stage (default prospecting); closed_won and closed_lost only through close.",
    )
    # The full choice set (one enum for clients); closed is refused by the service (400).
    forecast_category = NamedChoiceField(
        choices=ForecastCategory.choices,
        required=False,
        help_text="Follows the stage until you choose one; your choice sticks through stage moves until the "
        "opportunity closes, which sets closed (won) or omitted (lost). closed itself cannot be chosen.",
    )
    expected_close_date = TimestampField(required=False, allow_null=True)
    next_step_date = TimestampField(required=False, allow_null=True)
    products_interested = ProductsField(required=False)

    class Meta:
        model = Opportunity
        fields = api_field_names(Opportunity, EDITABLE_FIELDS)


class OpportunityCloseSerializer(StrictSerializer):
    stage = NamedChoiceField(choices=CLOSING_STAGES)
    actual_close_date = TimestampField(required=False, allow_null=True, help_text="Defaults to now.")
    loss_reason = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, help_text="Required when closing as closed_lost."
    )
    notes = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, help_text="Appended, dated, to the opportunity's notes."
    )


CLOSING_STAGE = NamedSchema(
    "ClosingStageEnum",
    {"type": "string", "enum": CLOSING_STAGES, "description": "How an opportunity closes: won or lost."},
)


def _close_body(name: str, stage: str, loss_reason: dict, required: list[str]) -> NamedSchema:
    others = [other for other in CLOSING_STAGES if other != stage]
    return NamedSchema(
        name,
        {
            "type": "object",
            "properties": {
                # The closing stages narrowed to this shape's one. `not` rather than an `enum` beside
                # the `$ref`: drf-spectacular would take such an enum for a choice set to name.
                "stage": {"allOf": [CLOSING_STAGE], "not": {"enum": others}, "description": f"`{stage}`."},
                "actual_close_date": {
                    "type": "string",
                    "format": "date-time",
                    "nullable": True,
                    "description": "Defaults to now.",
                },
                "loss_reason": loss_reason,
                "notes": {
                    "type": "string",
                    "nullable": True,
                    "description": "Appended, dated, to the opportunity's notes.",
                },
            },
            "required": required,
        },
    )


# Two shapes, so that the schema states the loss-reason rule that closing enforces.
CLOSE_REQUEST = NamedSchema(
    "OpportunityCloseRequest",
    {
        "oneOf": [
            _close_body(
                "OpportunityCloseWonRequest",
                OpportunityStage.CLOSED_WON,
                {"type": "string", "nullable": True, "pattern": BLANK_TEXT_PATTERN, "description": "None when won."},
                ["stage"],
            ),
            _close_body(
                "OpportunityCloseLostRequest",
                OpportunityStage.CLOSED_LOST,
                {"type": "string", "pattern": VISIBLE_CHARACTER_PATTERN, "description": "Why it was lost (required)."},
                ["stage", "loss_reason"],
            ),
        ],
        "description": "Close as won, or as lost with the reason.",
    },
)


class OpportunityStageChangeSerializer(serializers.ModelSerializer):
    from_stage = StageLeftField(read_only=True, help_text="The stage left; null on the creation row.")
    to_stage = serializers.ChoiceField(choices=OpportunityStage.choices, read_only=True, help_text="The stage entered.")
    changed_by_id = serializers.IntegerField(read_only=True, allow_null=True)
    changed_by_name = serializers.SerializerMethodField()
    estimated_value = MoneyField(read_only=True)

    class Meta:
        model = OpportunityStageChange
        fields = [
            "id",
            "from_stage",
            "to_stage",
            "changed_by_id",
            "changed_by_name",
            "changed_at",
            "estimated_value",
            "probability",
            "notes",
        ]
        read_only_fields = fields

    def get_changed_by_name(self, change) -> str | None:
        user = change.changed_by
        return (user.get_full_name() or user.get_username()) if user else None


# --- pipeline statistics ----------------------------------------------------------------


class PipelineStatsQuerySerializer(serializers.Serializer):
    owner_id = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_USER_ID, help_text="Only this user's opportunities."
    )


def _sum_field(**kwargs) -> serializers.DecimalField:
    # A sum of many money values may have more digits than one value: no digit limit.
    return serializers.DecimalField(max_digits=None, decimal_places=2, coerce_to_string=False, read_only=True, **kwargs)


class StageStatsSerializer(serializers.Serializer):
    count = serializers.IntegerField(read_only=True)
    total_value = _sum_field(help_text="Σ estimated_value.")
    weighted_value = _sum_field(help_text="Σ expected_revenue.")


# One key per stage, always present (a stage with nothing in it shows zeros), built from the
# stage list so it never drifts.
StageBreakdownSerializer = type(
    "StageBreakdownSerializer",
    (serializers.Serializer,),
    {stage: StageStatsSerializer(read_only=True) for stage in OpportunityStage.values},
)


class PipelineStatsSerializer(serializers.Serializer):
    total_opportunities = serializers.IntegerField(read_only=True)
    open_opportunities = serializers.IntegerField(read_only=True)
    total_pipeline_value = _sum_field(help_text="Σ estimated_value of open opportunities.")
    weighted_pipeline_value = _sum_field(help_text="Σ expected_revenue of open opportunities.")
    won_value = _sum_field(help_text="Σ estimated_value of closed_won opportunities.")
    win_rate = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        coerce_to_string=False,
        read_only=True,
        help_text="won ÷ (won + lost) × 100; 0 when nothing is closed.",
    )
    by_stage = StageBreakdownSerializer(read_only=True)


def webhook_data(opportunity) -> dict:
    """The opportunity as the API renders it to a manager: what its webhook events carry."""
    return render(OpportunitySerializer, opportunity_list_visible_to(system_actor()).get(pk=opportunity.pk))
