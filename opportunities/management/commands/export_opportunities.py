"""``manage.py export_opportunities``: opportunities as CSV, filtered as the API's opportunity list."""

from __future__ import annotations

from crm_project.core.commands import CsvExportCommand
from opportunities.filters import OpportunityFilterSet
from opportunities.selectors import opportunity_list_visible_to

COLUMNS = (
    "opportunity_number",
    "name",
    "description",
    "customer_code",
    "customer_name",
    "owner",
    "lead_number",
    "stage",
    "estimated_value",
    "probability",
    "expected_revenue",
    "expected_close_date",
    "actual_close_date",
    "next_step",
    "next_step_date",
    "products_interested",
    "loss_reason",
    "notes",
    "created_at",
    "updated_at",
)


class Command(CsvExportCommand):
    help = (
        "Export opportunities as CSV, filtered as GET /api/v1/crm/opportunities is (e.g. --stage proposal "
        "--owner rep1 --min-value 50000), oldest first."
    )
    noun, noun_plural = "opportunity", "opportunities"
    filterset_class = OpportunityFilterSet
    columns = COLUMNS

    def visible(self, actor):
        return opportunity_list_visible_to(actor).select_related("lead")

    def row(self, opportunity):
        return [
            opportunity.opportunity_number,
            opportunity.name,
            opportunity.description,
            opportunity.customer.customer_code,
            opportunity.customer.company_name,
            opportunity.owner.get_username() if opportunity.owner_id else None,
            opportunity.lead.lead_number if opportunity.lead_id else None,
            opportunity.stage,
            opportunity.estimated_value,
            opportunity.probability,
            opportunity.expected_revenue,
            opportunity.expected_close_date,
            opportunity.actual_close_date,
            opportunity.next_step,
            opportunity.next_step_date,
            opportunity.products_interested,
            opportunity.loss_reason,
            opportunity.notes,
            opportunity.created_at,
            opportunity.updated_at,
        ]
