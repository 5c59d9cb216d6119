"""The lead list as CSV (``manage.py export_leads`` and the export jobs): the import's own columns."""

from __future__ import annotations

from crm_project.core.exports import CsvExport
from leads.filters import LeadFilterSet
from leads.lead_csv import COLUMNS, lead_row
from leads.selectors import lead_list_visible_to

LEAD_EXPORT = CsvExport(
    name="lead",
    noun_plural="leads",
    filterset_class=LeadFilterSet,
    columns=COLUMNS,
    visible=lead_list_visible_to,
    row=lead_row,
)
