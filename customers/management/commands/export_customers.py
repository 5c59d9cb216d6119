"""``manage.py export_customers``: customers as CSV, filtered as the API's customer list."""

from __future__ import annotations

from crm_project.core.commands import CsvExportCommand
from customers.exports import CUSTOMER_EXPORT


class Command(CsvExportCommand):
    help = (
        "Export customers as CSV, filtered as GET /api/v1/crm/customers is (e.g. --country India "
        "--not-contacted-since 2025-10-01 for dormant accounts), oldest first."
    )
    export = CUSTOMER_EXPORT
