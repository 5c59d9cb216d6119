"""``manage.py export_opportunities``: opportunities as CSV, filtered as the API's opportunity list."""

from __future__ import annotations

from crm_project.core.commands import CsvExportCommand
from opportunities.exports import OPPORTUNITY_EXPORT


class Command(CsvExportCommand):
    help = (
        "Export opportunities as CSV, filtered as GET /api/v1/crm/opportunities is (e.g. --stage proposal "
        "--owner rep1 --min-value 50000), oldest first."
    )
    export = OPPORTUNITY_EXPORT
