"""The customer list as CSV (``manage.py export_customers`` and the export jobs)."""

from __future__ import annotations

from crm_project.core.exports import CsvExport
from customers.filters import CustomerFilterSet
from customers.selectors import customer_list_visible_to
from customers.services import EDITABLE_FIELDS

# The customer's own fields (the ones the API writes), between its code and its dates.
COLUMNS = ("customer_code", *EDITABLE_FIELDS, "last_contacted_at", "created_at", "updated_at")


def customer_row(customer) -> list:
    manager = customer.account_manager.get_username() if customer.account_manager_id else None
    return [manager if column == "account_manager" else getattr(customer, column) for column in COLUMNS]


CUSTOMER_EXPORT = CsvExport(
    name="customer",
    noun_plural="customers",
    filterset_class=CustomerFilterSet,
    columns=COLUMNS,
    # Without the list's segment prefetch: the export has no segment column.
    visible=lambda actor: customer_list_visible_to(actor).prefetch_related(None),
    row=customer_row,
)
