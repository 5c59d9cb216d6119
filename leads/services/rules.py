"""The checks several lead writes share, and the lists of what a client may write."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Value
from django.db.models.functions import Lower

from crm_project.core.changes import note_change
from crm_project.core.history import changes_between, snapshot
from crm_project.core.roles import check_crm_user, is_manager
from leads.models import Lead, LeadStatus

LEAD_NUMBER_PREFIX = "LEAD"

# What a client may set when creating or updating a lead (an update may also set ``status``,
# through its own rules), in the order people read a lead: who, then about them, then the deal.
# The API's serializers and the CSV columns of imports and exports derive from it.
CREATE_FIELDS = (
    "company_name",
    "contact_person",
    "email",
    "phone",
    "industry",
    "company_size",
    "website",
    "title_position",
    "city",
    "state",
    "country",
    "source",
    "priority",
    "estimated_deal_value",
    "requirements",
    "notes",
    "next_follow_up_date",
    "assigned_to",
)
REQUIRED_FIELDS = ("company_name", "contact_person", "email")

EMAIL_TAKEN = "A lead with this email already exists."


def check_assignee(*, actor, assignee) -> None:
    """Only CRM users are assignees (400); a rep assigns only themselves or nobody (403)."""
    check_crm_user(assignee, field="assigned_to_id")
    if assignee is not None and assignee != actor and not is_manager(actor):
        raise PermissionDenied(
            "Sales reps can assign leads only to themselves or leave them unassigned (assigned_to_id)."
        )


def check_required(data: Mapping[str, Any], names) -> None:
    missing = {name: "This field is required." for name in names if not data.get(name)}
    if missing:
        raise ValidationError(missing)


def check_email_free(email: str, *, exclude_pk=None) -> None:
    # Compared exactly as the unique index compares (LOWER on both sides, in the database),
    # so that index serves the lookup and the two never disagree about what "same" means.
    clashes = Lead.objects.annotate(email_lower=Lower("email")).filter(email_lower=Lower(Value(email)))
    if exclude_pk is not None:
        clashes = clashes.exclude(pk=exclude_pk)
    if clashes.exists():
        raise ValidationError({"email": EMAIL_TAKEN})


def set_status(lead: Lead, status: str) -> None:
    """Move ``lead`` to ``status``, keeping the qualification flag in step with it."""
    lead.status = status
    if status in (LeadStatus.NEW, LeadStatus.CONTACTED):
        lead.is_qualified = False
        lead.qualified_at = None


def describe(lead: Lead) -> str:
    return f"{lead.lead_number} is {lead.get_status_display().lower()}"


# What a lead's history follows: what a client writes, and what the transitions set.
TRACKED_FIELDS = (
    *CREATE_FIELDS,
    "status",
    "qualification_score",
    "is_qualified",
    "qualified_at",
    "converted_customer",
    "converted_at",
)
RECORD_TYPE = "lead"


def noted(lead: Lead, before: dict, *, action: str, actor, event: str | None = None) -> None:
    """Record what changed on ``lead`` since ``before`` (a ``snapshot``), and tell ``event``'s subscribers."""
    note_change(
        record_type=RECORD_TYPE,
        record=lead,
        action=action,
        actor=actor,
        changes=changes_between(before, snapshot(lead, TRACKED_FIELDS)),
        customer_id=lead.converted_customer_id,
        event=event,
    )
