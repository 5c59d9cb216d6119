"""``manage.py export_leads``: leads as CSV, filtered as the API's lead list; the file imports back."""

from __future__ import annotations

from crm_project.core.commands import CsvExportCommand
from leads.filters import LeadFilterSet
from leads.management.lead_csv import COLUMNS, lead_row
from leads.selectors import lead_list_visible_to


class Command(CsvExportCommand):
    help = (
        "Export leads as CSV, filtered as GET /api/v1/crm/leads is (e.g. --status new --assigned-to rep1), "
        "oldest first. The columns are import_leads' columns, so the file imports back unchanged."
    )
    noun = "lead"
    filterset_class = LeadFilterSet
    columns = COLUMNS

    def visible(self, actor):
        return lead_list_visible_to(actor)

    def row(self, lead):
        return lead_row(lead)
