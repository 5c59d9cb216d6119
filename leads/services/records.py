"""Creating, updating and deleting a lead."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from crm_project.core.changes import created, note_change
from crm_project.core.exceptions import Conflict
from crm_project.core.history import snapshot
from crm_project.core.matching import set_match_keys
from crm_project.core.models import HistoryAction
from crm_project.core.numbering import next_daily_number
from crm_project.core.roles import is_manager
from crm_project.core.services import apply_changes, delete_unless_referenced, lock_for_update
from leads.models import UPDATABLE_STATUSES, Lead, LeadStatus

from .rules import (
    CREATE_FIELDS,
    LEAD_NUMBER_PREFIX,
    RECORD_TYPE,
    REQUIRED_FIELDS,
    TRACKED_FIELDS,
    check_assignee,
    check_email_free,
    check_required,
    describe,
    noted,
    set_status,
)


@transaction.atomic
def lead_create(*, actor, data: Mapping[str, Any]) -> Lead:
    """A new lead, always ``new``, numbered from today's sequence; ``created_by`` is the actor."""
    check_required(data, REQUIRED_FIELDS)
    check_assignee(actor=actor, assignee=data.get("assigned_to"))
    # The number first: its counter row stays locked until this transaction ends, so
    # concurrent creators queue here, and the email check below then sees every lead
    # committed before this one (a same-email race gets the friendly 400, not the index's).
    lead_number = next_daily_number(LEAD_NUMBER_PREFIX)
    check_email_free(data["email"])
    lead = new_lead(actor=actor, lead_number=lead_number, data=data)
    lead.save()
    note_change(
        record_type=RECORD_TYPE,
        record=lead,
        action=HistoryAction.CREATED,
        actor=actor,
        changes=created(lead, ("lead_number", *TRACKED_FIELDS)),
        event="lead.created",
    )
    return lead


def new_lead(*, actor, lead_number: str, data: Mapping[str, Any]) -> Lead:
    """An unsaved new lead: always ``new``, created by the actor (nobody for the system)."""
    lead = Lead(
        lead_number=lead_number,
        status=LeadStatus.NEW,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    apply_changes(lead, data, allowed=CREATE_FIELDS)
    set_match_keys(lead)
    return lead


@transaction.atomic
def lead_update(*, actor, lead: Lead, data: Mapping[str, Any], if_match: str | None = None) -> Lead:
    """
    Change the lead's editable fields. ``status`` may become new, contacted or lost (a lost
    lead is reopened this way); a converted lead cannot be changed at all (409).
    """
    lead = lock_for_update(lead, if_match=if_match)
    if not lead.can_be_updated():
        raise Conflict(f"{describe(lead)}; a converted lead can no longer be changed.")
    before = snapshot(lead, TRACKED_FIELDS)
    if "assigned_to" in data and getattr(data["assigned_to"], "pk", None) != lead.assigned_to_id:
        check_assignee(actor=actor, assignee=data["assigned_to"])
    check_required(data, [name for name in REQUIRED_FIELDS if name in data])
    if "email" in data and data["email"] != lead.email:
        check_email_free(data["email"], exclude_pk=lead.pk)

    changed = False
    new_status = data.get("status", lead.status)
    if new_status != lead.status:
        if new_status not in UPDATABLE_STATUSES:
            raise ValidationError(
                {
                    "status": (
                        "An update can set the status only to new, contacted or lost; "
                        "use qualify to qualify a lead and convert to convert it."
                    )
                }
            )
        set_status(lead, new_status)
        changed = True
    changed = bool(apply_changes(lead, data, allowed=CREATE_FIELDS)) or changed
    if changed:
        lead.touch()
        set_match_keys(lead)
        lead.save()
        reassigned = "lead.assigned" if lead.assigned_to_id != before["assigned_to_id"] else None
        noted(lead, before, action=HistoryAction.UPDATED, actor=actor, event=reassigned)
    return lead


@transaction.atomic
def lead_delete(*, actor, lead: Lead, if_match: str | None = None) -> None:
    if not is_manager(actor):
        raise PermissionDenied("Only sales managers can delete leads.")
    lead = lock_for_update(lead, if_match=if_match)
    # Written first: the history outlives the record, and a refused delete rolls it back.
    noted(lead, snapshot(lead, TRACKED_FIELDS), action=HistoryAction.DELETED, actor=actor)
    delete_unless_referenced(lead, name=lead.lead_number, instead="Mark the lead lost instead.")
