"""The opportunity list as CSV (``manage.py export_opportunities`` and the export jobs)."""

from __future__ import annotations

from crm_project.core.exports import CsvExport
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


def opportunity_row(opportunity) -> list:
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


OPPORTUNITY_EXPORT = CsvExport(
    name="opportunity",
    noun_plural="opportunities",
    filterset_class=OpportunityFilterSet,
    columns=COLUMNS,
    visible=lambda actor: opportunity_list_visible_to(actor).select_related("lead"),
    row=opportunity_row,
)
