"""``manage.py export_leads``: leads as CSV, filtered as the API's lead list; the file imports back."""

from __future__ import annotations

from crm_project.core.commands import CsvExportCommand
from leads.exports import LEAD_EXPORT


class Command(CsvExportCommand):
    help = (
        "Export leads as CSV, filtered as GET /api/v1/crm/leads is (e.g. --status new --assigned-to rep1), "
        "oldest first. The columns are import_leads' columns, so the file imports back unchanged."
    )
    export = LEAD_EXPORT
