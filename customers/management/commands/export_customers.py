"""``manage.py export_customers``: customers as CSV, filtered as the API's customer list."""

from __future__ import annotations

from crm_project.core.commands import CsvExportCommand
from customers.filters import CustomerFilterSet
from customers.selectors import customer_list_visible_to
from customers.services import EDITABLE_FIELDS

# The customer's own fields (the ones the API writes), between its code and its dates.
COLUMNS = ("customer_code", *EDITABLE_FIELDS, "last_contacted_at", "created_at", "updated_at")


class Command(CsvExportCommand):
    help = (
        "Export customers as CSV, filtered as GET /api/v1/crm/customers is (e.g. --country India "
        "--not-contacted-since 2025-10-01 for dormant accounts), oldest first."
    )
    noun = "customer"
    filterset_class = CustomerFilterSet
    columns = COLUMNS

    def visible(self, actor):
        # Without the list's segment prefetch: the export has no segment column.
        return customer_list_visible_to(actor).prefetch_related(None)

    def row(self, customer):
        manager = customer.account_manager.get_username() if customer.account_manager_id else None
        return [manager if column == "account_manager" else getattr(customer, column) for column in COLUMNS]
