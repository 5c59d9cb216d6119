"""
Writes of communications. Invariants guarded here:

- a communication concerns at least one of a customer, a lead, an opportunity;
- when it names an opportunity, its customer is the opportunity's customer (taken from the
  opportunity when none is given) and its lead, if any, is the opportunity's lead;
- a required follow-up has a follow-up date; a duration is never negative;
- the representative defaults to the actor, and a sales rep may name only themselves;
- a follow-up is completed once, and only when one is required (a second complete is 409);
- a lead's and a customer's ``last_contacted_at`` equal the latest communication about them:
  moved forward on every log, recomputed from the rows when a communication's date or links
  change or it is deleted;
- a rep's pending follow-ups on leads handed to someone else go with the leads
  (``communication_reassign_follow_ups``, called by ``leads.services.lead_reassign_bulk``).

Lock order, everywhere: the communication row, then lead rows, then customer rows (each set
by primary key), so two writers never wait on each other in a circle.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from crm_project.core.exceptions import Conflict
from crm_project.core.roles import check_crm_user, is_manager
from crm_project.core.services import apply_changes, lock_for_update
from customers.models import Customer
from customers.services import customer_record_contact
from leads.models import Lead
from leads.services import lead_record_contact

from .models import Communication
from .selectors import PENDING_FOLLOW_UP

EDITABLE_FIELDS = (
    "customer",
    "lead",
    "opportunity",
    "our_representative",
    "type",
    "direction",
    "subject",
    "content",
    "contact_person",
    "communication_date",
    "duration_minutes",
    "requires_follow_up",
    "follow_up_date",
    "attachments",
)
# A change to one of these can change which communication is the latest about a record.
CONTACT_FIELDS = ("customer", "lead", "communication_date")


def _check_representative(*, actor, representative) -> None:
    check_crm_user(representative, field="our_representative_id")
    if representative is not None and representative != actor and not is_manager(actor):
        raise PermissionDenied("Sales reps can name only themselves as the representative (our_representative_id).")


def _infer_customer(communication: Communication) -> None:
    """An opportunity given without a customer brings its own (contract)."""
    if communication.customer_id is None and communication.opportunity_id is not None:
        communication.customer_id = communication.opportunity.customer_id


def _validate(communication: Communication) -> None:
    """The rules on a communication's full state, on create and on the merged state of an update."""
    errors: dict[str, str] = {}
    opportunity = communication.opportunity
    if not (communication.customer_id or communication.lead_id or communication.opportunity_id):
        errors[NON_FIELD_ERRORS] = "A communication must concern a customer, a lead or an opportunity."
    if opportunity is not None and communication.customer_id and communication.customer_id != opportunity.customer_id:
        errors["customer_id"] = "This customer is not the opportunity's customer."
    if opportunity is not None and communication.lead_id and opportunity.lead_id not in (None, communication.lead_id):
        errors["lead_id"] = "This lead is not the opportunity's lead."
    if communication.requires_follow_up and communication.follow_up_date is None:
        errors["follow_up_date"] = "A follow-up date is required when a follow-up is required."
    if communication.duration_minutes is not None and communication.duration_minutes < 0:
        errors["duration_minutes"] = "Duration cannot be negative."
    if errors:
        raise ValidationError(errors)


def _locked_latest(model: type[models.Model], field: str, ids: Iterable) -> None:
    """
    Set ``last_contacted_at`` of the ``model`` rows ``ids`` to their latest communication,
    recomputed from the rows. Only rows whose value changes are written (and their
    ``updated_at`` advanced), so an unrelated edit does not change a record's ETag.
    """
    ids = {pk for pk in ids if pk is not None}
    if not ids:
        return
    # Lock before reading the communications: a concurrent delete or re-date of another
    # communication about the same record waits here, then recomputes seeing ours, and a
    # concurrent insert's forward-only UPDATE queues behind us (no lost update either way).
    current = dict(
        model._default_manager.select_for_update(no_key=True)
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", "last_contacted_at")
    )
    latest = dict(
        Communication.objects.filter(**{f"{field}__in": ids})
        .values_list(field)
        .annotate(latest=Max("communication_date"))
        .order_by()
    )
    now = timezone.now()
    for pk, contacted_at in current.items():
        if latest.get(pk) != contacted_at:
            model._default_manager.filter(pk=pk).update(last_contacted_at=latest.get(pk), updated_at=now)


def _recompute_last_contacted(*, lead_ids: Iterable, customer_ids: Iterable) -> None:
    _locked_latest(Lead, "lead_id", lead_ids)
    _locked_latest(Customer, "customer_id", customer_ids)


@transaction.atomic
def communication_log(*, actor, data: dict[str, Any]) -> Communication:
    """
    Log a communication. ``data`` holds model field names (``customer``, ``lead``, ...);
    a missing ``our_representative`` or ``communication_date`` means the actor and now.
    """
    author = actor if getattr(actor, "pk", None) else None
    representative = data.get("our_representative") or author
    _check_representative(actor=actor, representative=representative)
    communication = Communication(created_by=author)
    apply_changes(communication, data, allowed=EDITABLE_FIELDS)
    communication.our_representative = representative
    if communication.communication_date is None:
        communication.communication_date = timezone.now()
    _infer_customer(communication)
    _validate(communication)
    communication.save()

    # Forward-only bookkeeping (each a conditional UPDATE, safe under concurrent loggers);
    # the lead before the customer, the lock order of this module.
    if communication.lead_id is not None:
        lead_record_contact(lead_id=communication.lead_id, contacted_at=communication.communication_date)
    if communication.customer_id is not None:
        customer_record_contact(customer_id=communication.customer_id, contacted_at=communication.communication_date)
    return communication


@transaction.atomic
def communication_update(
    *, actor, communication: Communication, data: dict[str, Any], if_match: str | None = None
) -> Communication:
    """Change a communication; the rules of ``communication_log`` hold on the merged state."""
    # The row lock serialises edits of this communication: each sees the last one's state,
    # and If-Match is checked against the version it is about to change.
    communication = lock_for_update(communication, if_match=if_match)
    before_lead_id, before_customer_id = communication.lead_id, communication.customer_id
    if "our_representative" in data and data["our_representative"] != communication.our_representative:
        _check_representative(actor=actor, representative=data["our_representative"])
    if data.get("requires_follow_up") is False and communication.follow_up_completed:
        raise Conflict("This follow-up was completed already; it cannot be made not required.")

    changed = apply_changes(communication, data, allowed=EDITABLE_FIELDS)
    if not changed:
        return communication
    _infer_customer(communication)
    _validate(communication)
    communication.touch()
    communication.save()

    if any(name in changed for name in CONTACT_FIELDS) or communication.customer_id != before_customer_id:
        # All affected rows locked at once, in key order, before any single-row write: two
        # updates swapping leads cannot each hold the row the other one waits for.
        _recompute_last_contacted(
            lead_ids=(before_lead_id, communication.lead_id),
            customer_ids=(before_customer_id, communication.customer_id),
        )
    if communication.lead_id is not None and communication.lead_id != before_lead_id:
        # A lead newly linked was contacted: a new lead becomes contacted.
        lead_record_contact(lead_id=communication.lead_id, contacted_at=communication.communication_date)
    return communication


@transaction.atomic
def communication_complete_follow_up(
    *, actor, communication: Communication, if_match: str | None = None
) -> Communication:
    """Mark the follow-up done: 400 when none is required, 409 when it is done already."""
    # The row lock makes two concurrent completes queue: the second sees the first's
    # completion and is refused, so ``follow_up_completed_at`` is written once.
    communication = lock_for_update(communication, if_match=if_match)
    if not communication.requires_follow_up:
        raise ValidationError({"requires_follow_up": "This communication requires no follow-up."})
    if communication.follow_up_completed:
        raise Conflict("This follow-up was completed already.")
    communication.follow_up_completed = True
    communication.follow_up_completed_at = timezone.now()
    communication.touch()
    communication.save()
    return communication


@transaction.atomic
def communication_delete(*, actor, communication: Communication, if_match: str | None = None) -> None:
    """Delete a communication; its lead and customer fall back to their latest remaining one."""
    # Locked so that a concurrent edit cannot move it to another record while it goes, and
    # the links read here are the ones it had when deleted.
    communication = lock_for_update(communication, if_match=if_match)
    lead_id, customer_id = communication.lead_id, communication.customer_id
    communication.delete()
    _recompute_last_contacted(lead_ids=(lead_id,), customer_ids=(customer_id,))


def communication_reassign_follow_ups(*, actor, leads: QuerySet[Lead], from_user, to_user, at=None) -> int:
    """
    Make ``to_user`` the representative of ``from_user``'s pending follow-ups on ``leads``
    (a queryset, used as a subquery): one UPDATE whatever their number; returns how many.
    The caller's transaction holds it together with the move of the leads themselves.
    """
    _check_representative(actor=actor, representative=to_user)
    return Communication.objects.filter(PENDING_FOLLOW_UP, our_representative=from_user, lead__in=leads).update(
        our_representative=to_user, updated_at=at or timezone.now()
    )
