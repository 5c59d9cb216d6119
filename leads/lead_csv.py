"""
The lead CSV of ``import_leads`` and ``export_leads``: one set of columns, so that an export
imports back unchanged. The columns are the lead fields a client may send on
create, with the assignee by username.
"""

from __future__ import annotations

from typing import Any

from crm_project.core.commands import from_spreadsheet
from leads.models import Lead
from leads.services import CREATE_FIELDS, REQUIRED_FIELDS

# The fields a client may send on create: the service's one list (its required fields come first).
COLUMNS = CREATE_FIELDS
REQUIRED_COLUMNS = REQUIRED_FIELDS
ASSIGNEE_COLUMN = "assigned_to"


def lead_row(lead: Lead) -> list[Any]:
    """The lead's values in ``COLUMNS`` order (the assignee joined in by the selector)."""
    assignee = lead.assigned_to.get_username() if lead.assigned_to_id else None
    return [assignee if column == ASSIGNEE_COLUMN else getattr(lead, column) for column in COLUMNS]


def header_problems(header: list[str]) -> list[str]:
    """What is wrong with a file's header row: unknown, repeated or missing columns."""
    problems = []
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        problems.append(f"unknown column(s) {', '.join(unknown)} (the columns are: {', '.join(COLUMNS)})")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        problems.append(f"repeated column(s) {', '.join(repeated)}")
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        problems.append(f"missing required column(s) {', '.join(missing)}")
    return problems


def cell_value(text: str) -> str | None:
    """A cell as the import reads it: ``None`` when blank (the field's default applies)."""
    if not text.strip():
        return None
    return from_spreadsheet(text)
