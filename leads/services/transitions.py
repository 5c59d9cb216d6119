"""A lead's transitions: qualify, convert, mark lost, mark contacted, assign."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from crm_project.core.exceptions import Conflict
from crm_project.core.history import relink_customer, snapshot
from crm_project.core.models import HistoryAction
from crm_project.core.services import append_note, lock_for_update
from customers.models import Customer
from customers.services import customer_create
from leads.models import Lead, LeadStatus

from .rules import RECORD_TYPE, TRACKED_FIELDS, check_assignee, describe, noted, set_status


@transaction.atomic
def lead_qualify(
    *,
    actor,
    lead: Lead,
    qualification_score: int,
    is_qualified: bool = True,
    notes: str | None = None,
    if_match: str | None = None,
) -> Lead:
    """
    Record a qualification: the score always; ``is_qualified`` true makes the lead qualified
    (``qualified_at`` keeps the first time), false withdraws the qualification (a qualified
    lead goes back to contacted). Converted or lost leads cannot be qualified (409).
    """
    if isinstance(qualification_score, bool) or not isinstance(qualification_score, int):
        raise ValidationError({"qualification_score": "A whole number is required."})
    if not 0 <= qualification_score <= 100:
        raise ValidationError({"qualification_score": "Qualification score must be between 0 and 100."})
    lead = lock_for_update(lead, if_match=if_match)
    if not lead.can_be_qualified():
        raise Conflict(f"{describe(lead)}; only an open lead can be qualified.")
    before = snapshot(lead, TRACKED_FIELDS)

    lead.qualification_score = qualification_score
    if is_qualified:
        if lead.status != LeadStatus.QUALIFIED:
            lead.status = LeadStatus.QUALIFIED
            lead.is_qualified = True
            lead.qualified_at = timezone.now()
    else:
        lead.is_qualified = False
        lead.qualified_at = None
        if lead.status == LeadStatus.QUALIFIED:
            lead.status = LeadStatus.CONTACTED
    lead.notes = append_note(lead.notes, notes, actor=actor)
    lead.touch()
    lead.save()
    noted(lead, before, action=HistoryAction.QUALIFIED, actor=actor, event="lead.qualified" if is_qualified else None)
    return lead


def _customer_data_from(lead: Lead) -> dict[str, Any]:
    return {
        "company_name": lead.company_name,
        "industry": lead.industry,
        "contact_person": lead.contact_person,
        "email": lead.email,
        "phone": lead.phone,
        "website": lead.website,
        "city": lead.city,
        "state": lead.state,
        "country": lead.country,
        "account_manager": lead.assigned_to,
    }


@transaction.atomic
def lead_convert(
    *,
    actor,
    lead: Lead,
    customer: Customer | None = None,
    notes: str | None = None,
    if_match: str | None = None,
) -> Lead:
    """
    Convert the lead into ``customer``, or, without one, into a customer created from the
    lead's company and contact data (its account manager is the lead's assignee). Already
    converted or lost: 409, and no customer is created.
    """
    # The row lock makes concurrent converts of one lead queue: the first converts, the
    # others then read it converted and get 409, so at most one customer is ever created.
    lead = lock_for_update(lead, if_match=if_match)
    if not lead.can_be_converted():
        raise Conflict(f"{describe(lead)}; only an open lead can be converted.")
    before = snapshot(lead, TRACKED_FIELDS)
    if customer is None:
        customer = customer_create(actor=actor, data=_customer_data_from(lead))
    lead.status = LeadStatus.CONVERTED
    lead.converted_customer = customer
    lead.converted_at = timezone.now()
    lead.notes = append_note(lead.notes, notes, actor=actor)
    lead.touch()
    lead.save()
    # From now on the lead's whole history shows on its customer's timeline.
    relink_customer(record_type=RECORD_TYPE, record_ids=[lead.pk], customer_id=customer.pk)
    noted(lead, before, action=HistoryAction.CONVERTED, actor=actor, event="lead.converted")
    return lead


@transaction.atomic
def lead_mark_lost(*, actor, lead: Lead, notes: str | None = None, if_match: str | None = None) -> Lead:
    """An open lead is lost (it keeps its qualification as history); converted or lost: 409."""
    lead = lock_for_update(lead, if_match=if_match)
    if not lead.can_be_marked_lost():
        raise Conflict(f"{describe(lead)}; only an open lead can be marked lost.")
    before = snapshot(lead, TRACKED_FIELDS)
    set_status(lead, LeadStatus.LOST)
    lead.notes = append_note(lead.notes, notes, actor=actor)
    lead.touch()
    lead.save()
    noted(lead, before, action=HistoryAction.UPDATED, actor=actor)
    return lead


@transaction.atomic
def lead_mark_contacted(*, actor, lead: Lead, if_match: str | None = None) -> Lead:
    """
    A new lead becomes contacted (a lost one is reopened as contacted). A qualified lead is
    refused (409): withdrawing a qualification goes through ``lead_qualify``.
    """
    lead = lock_for_update(lead, if_match=if_match)
    if not lead.can_be_marked_contacted():
        raise Conflict(f"{describe(lead)}; only a new or lost lead can be marked contacted.")
    before = snapshot(lead, TRACKED_FIELDS)
    set_status(lead, LeadStatus.CONTACTED)
    lead.touch()
    lead.save()
    noted(lead, before, action=HistoryAction.UPDATED, actor=actor)
    return lead


@transaction.atomic
def lead_assign(*, actor, lead: Lead, assignee, if_match: str | None = None) -> Lead:
    """Assign the lead to ``assignee`` (or to nobody); reps only to themselves (403)."""
    lead = lock_for_update(lead, if_match=if_match)
    if not lead.can_be_updated():
        raise Conflict(f"{describe(lead)}; a converted lead can no longer be changed.")
    if getattr(assignee, "pk", None) == lead.assigned_to_id:
        return lead
    check_assignee(actor=actor, assignee=assignee)
    before = snapshot(lead, TRACKED_FIELDS)
    lead.assigned_to = assignee
    lead.touch()
    lead.save()
    noted(lead, before, action=HistoryAction.UPDATED, actor=actor, event="lead.assigned")
    return lead
