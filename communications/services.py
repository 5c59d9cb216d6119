"""
Writes of communications. Invariants guarded here:

- a communication concerns at least one of a customer, a lead, an opportunity;
- when it names an opportunity, its customer is the opportunity's customer (taken from the
  opportunity when none is given) and its lead, if any, is the opportunity's lead; when the
  opportunity's customer or lead changes, its communications move with it in the same
  transaction (``communication_follow_opportunity``), so none is ever left behind;
- a required follow-up has a follow-up date; a duration is never negative;
- the representative defaults to the actor and is an active user with a CRM role (400); a
  sales rep may name only themselves (403);
- a follow-up is completed once, and only when one is required (a second complete is 409);
- a lead's and a customer's ``last_contacted_at`` equal the latest communication about them:
  the leads' and customers' own services move them forward on every log and recompute them
  when a communication's date or links change or it is deleted;
- a communication never refers to a lead or customer merged away: logging holds their keys
  (``FOR KEY SHARE``) and follows one merged meanwhile to its survivor; a merge moves the
  communications of the merged records in one statement (``communications_relink``), and its
  undo moves exactly those back, or refuses (409) when one was deleted or relinked since;
- a rep's pending follow-ups on leads handed to someone else go with the leads
  (``reassign_leads_with_follow_ups``);
- a follow-up digest is e-mailed only to an active representative with an address, once per
  representative and day, and only once the transaction that asked for it commits.

Lock order, everywhere: opportunity rows, then communication rows, then lead rows, then
customer rows (each set by primary key), so two writers never wait on each other in a circle.
Locking the opportunity first is what keeps a communication logged while its opportunity
moves to another customer from being written with the old one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from crm_project.core.changes import created, note_change, note_changes
from crm_project.core.exceptions import Conflict
from crm_project.core.history import changes_between, jsonable, snapshot
from crm_project.core.jobs.services import job_create
from crm_project.core.models import HistoryAction
from crm_project.core.redirects import hold_key_following_merges
from crm_project.core.roles import check_crm_user, is_manager
from crm_project.core.services import apply_changes, lock_for_update, relink, relink_back
from customers.models import Customer
from customers.services import customer_record_contact, customer_refresh_last_contacted
from leads.models import Lead
from leads.services import lead_reassign_bulk, lead_record_contact, lead_refresh_last_contacted, leads_to_reassign
from opportunities.models import Opportunity

from .digest import digest_email, follow_up_digests
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
RECORD_TYPE = "communication"
# What a communication's history follows.
TRACKED_FIELDS = (*EDITABLE_FIELDS, "follow_up_completed", "follow_up_completed_at")


def _noted(communication: Communication, *, action: str, actor, changes=None, event: str | None = None) -> None:
    note_change(
        record_type=RECORD_TYPE,
        record=communication,
        action=action,
        actor=actor,
        changes=changes,
        customer_id=communication.customer_id,
        event=event,
    )


# --- checks -------------------------------------------------------------------------------------


def _check_representative(*, actor, representative) -> None:
    check_crm_user(representative, field="our_representative_id")
    if representative is not None and representative != actor and not is_manager(actor):
        raise PermissionDenied("Sales reps can name only themselves as the representative (our_representative_id).")


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


# --- the records a communication is about ---------------------------------------------------------


def _lock_opportunities(ids: Iterable) -> dict:
    """Lock the opportunities ``ids`` (first in the lock order), in key order; return them by id."""
    ids = sorted({pk for pk in ids if pk is not None})
    if not ids:
        return {}
    return {
        opportunity.pk: opportunity
        for opportunity in Opportunity.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk")
    }


def _follow_locked_opportunity(communication: Communication, locked: dict) -> None:
    """
    Read the opportunity as locked (its customer and lead as they now stand), and take its
    customer when none is given.
    """
    if communication.opportunity_id is None:
        return
    communication.opportunity = locked[communication.opportunity_id]
    if communication.customer_id is None:
        communication.customer_id = communication.opportunity.customer_id


def _hold_subjects(communication: Communication) -> None:
    """
    Hold the lead and the customer the communication is about until it commits (the lead
    before the customer, the lock order of this module). One merged away meanwhile is
    followed to its survivor, which the communication is then about: a merge either
    finishes first (the communication goes to the survivor) or waits for this one (and
    moves it there); nothing is logged on a record that no longer exists.
    """
    if communication.lead_id is not None:
        lead_id = hold_key_following_merges(Lead, record_type="lead", pk=communication.lead_id)
        if lead_id is None:
            raise Conflict("The lead of this communication has just been deleted.")
        communication.lead_id = lead_id
    if communication.customer_id is not None:
        customer_id = hold_key_following_merges(Customer, record_type="customer", pk=communication.customer_id)
        if customer_id is None:
            raise Conflict("The customer of this communication has just been deleted.")
        communication.customer_id = customer_id


def _latest_contact_by(field: str):
    """For ``refresh_derived``: the latest communication date per ``field`` value among ``ids``."""

    def latest(ids: set) -> dict:
        return dict(
            Communication.objects.filter(**{f"{field}__in": ids})
            .values_list(field)
            .annotate(latest=Max("communication_date"))
            .order_by()
        )

    return latest


def _recompute_last_contacted(*, lead_ids: Iterable, customer_ids: Iterable) -> None:
    # Leads before customers: the lock order of this module.
    lead_refresh_last_contacted(lead_ids=lead_ids, latest_contact=_latest_contact_by("lead_id"))
    customer_refresh_last_contacted(customer_ids=customer_ids, latest_contact=_latest_contact_by("customer_id"))


# --- writes -------------------------------------------------------------------------------------


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
    # The opportunity stays as read here until this transaction ends: a concurrent move of it
    # to another customer waits, then moves this communication too.
    _follow_locked_opportunity(communication, _lock_opportunities([communication.opportunity_id]))
    _hold_subjects(communication)
    _validate(communication)
    communication.save()
    _noted(
        communication,
        action=HistoryAction.CREATED,
        actor=actor,
        changes=created(communication, TRACKED_FIELDS),
        event="communication.logged",
    )

    # Forward-only bookkeeping (each a conditional UPDATE, safe under concurrent loggers);
    # the lead before the customer, the lock order of this module.
    if communication.lead_id is not None:
        lead_record_contact(actor=actor, lead_id=communication.lead_id, contacted_at=communication.communication_date)
    if communication.customer_id is not None:
        customer_record_contact(customer_id=communication.customer_id, contacted_at=communication.communication_date)
    return communication


@transaction.atomic
def communication_update(
    *, actor, communication: Communication, data: dict[str, Any], if_match: str | None = None
) -> Communication:
    """Change a communication; the rules of ``communication_log`` hold on the merged state."""
    new_opportunity = data.get("opportunity")
    locked = _lock_opportunities([communication.opportunity_id, getattr(new_opportunity, "pk", None)])
    # The row lock serialises edits of this communication: each sees the last one's state,
    # and If-Match is checked against the version it is about to change.
    communication = lock_for_update(communication, if_match=if_match)
    if communication.opportunity_id not in (None, *locked):
        # Another edit moved it to this opportunity between our read and our lock.
        locked |= _lock_opportunities([communication.opportunity_id])
    before_lead_id, before_customer_id = communication.lead_id, communication.customer_id
    if "our_representative" in data and data["our_representative"] != communication.our_representative:
        _check_representative(actor=actor, representative=data["our_representative"])
    if data.get("requires_follow_up") is False and communication.follow_up_completed:
        raise Conflict("This follow-up was completed already; it cannot be made not required.")

    before = snapshot(communication, TRACKED_FIELDS)
    changed = apply_changes(communication, data, allowed=EDITABLE_FIELDS)
    if not changed:
        return communication
    _follow_locked_opportunity(communication, locked)
    _validate(communication)
    communication.touch()
    communication.save()
    changes = changes_between(before, snapshot(communication, TRACKED_FIELDS))
    _noted(communication, action=HistoryAction.UPDATED, actor=actor, changes=changes)

    if any(name in changed for name in CONTACT_FIELDS) or communication.customer_id != before_customer_id:
        _recompute_last_contacted(
            lead_ids=(before_lead_id, communication.lead_id),
            customer_ids=(before_customer_id, communication.customer_id),
        )
    if communication.lead_id is not None and communication.lead_id != before_lead_id:
        # A lead newly linked was contacted: a new lead becomes contacted.
        lead_record_contact(actor=actor, lead_id=communication.lead_id, contacted_at=communication.communication_date)
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
    changes = {
        "follow_up_completed": [False, True],
        "follow_up_completed_at": [None, jsonable(communication.follow_up_completed_at)],
    }
    _noted(
        communication,
        action=HistoryAction.FOLLOW_UP_COMPLETED,
        actor=actor,
        changes=changes,
        event="follow_up.completed",
    )
    return communication


@transaction.atomic
def communication_delete(*, actor, communication: Communication, if_match: str | None = None) -> None:
    """Delete a communication; its lead and customer fall back to their latest remaining one."""
    # Locked so that a concurrent edit cannot move it to another record while it goes, and
    # the links read here are the ones it had when deleted.
    communication = lock_for_update(communication, if_match=if_match)
    lead_id, customer_id = communication.lead_id, communication.customer_id
    _noted(communication, action=HistoryAction.DELETED, actor=actor)
    communication.delete()
    _recompute_last_contacted(lead_ids=(lead_id,), customer_ids=(customer_id,))


def communication_follow_opportunity(
    *, actor, opportunity: Opportunity, previous_customer_id, previous_lead_id
) -> None:
    """
    The opportunity's customer or lead changed (its row is locked by the caller's transaction):
    its communications move with it. Each takes the opportunity's customer; one linked to a
    lead other than the opportunity's new lead takes that lead (a communication without a
    lead keeps none). The records they left and reached get their ``last_contacted_at``
    recomputed, and a new lead they reached becomes contacted.
    """
    communications = Communication.objects.filter(opportunity=opportunity)
    # Who moves, and from where, read before they move: each leaves a history entry.
    before = {
        pk: {"customer_id": jsonable(customer_id), "lead_id": jsonable(lead_id)}
        for pk, customer_id, lead_id in communications.values_list("pk", "customer_id", "lead_id")
    }
    now = timezone.now()
    left_leads: set = set()
    communications.exclude(customer_id=opportunity.customer_id).update(
        customer_id=opportunity.customer_id, updated_at=now
    )
    if opportunity.lead_id is not None:
        to_relink = communications.exclude(lead_id=None).exclude(lead_id=opportunity.lead_id)
        left_leads = set(to_relink.values_list("lead_id", flat=True))
        to_relink.update(lead_id=opportunity.lead_id, updated_at=now)
    _note_moves(actor, before)
    _recompute_last_contacted(
        lead_ids=left_leads | {opportunity.lead_id},
        customer_ids=(previous_customer_id, opportunity.customer_id),
    )
    if left_leads:
        latest = communications.filter(lead_id=opportunity.lead_id).aggregate(at=Max("communication_date"))["at"]
        lead_record_contact(actor=actor, lead_id=opportunity.lead_id, contacted_at=latest)


def _note_moves(actor, before: dict) -> None:
    """A history entry for each communication whose links differ from ``before`` ({pk: links})."""
    moved = Communication.objects.filter(pk__in=list(before))
    after = {record.pk: record for record in moved}
    changes = {
        pk: changes_between(links, snapshot(after[pk], ("customer", "lead")))
        for pk, links in before.items()
        if pk in after
    }
    note_changes(
        record_type=RECORD_TYPE,
        records=[after[pk] for pk, change in changes.items() if change],
        action=HistoryAction.UPDATED,
        actor=actor,
        changes_of=lambda record: changes[record.pk],
        customer_id_of=lambda record: record.customer_id,
    )


# --- a rep's leads handed over, with their follow-ups ---------------------------------------------


@transaction.atomic
def communication_reassign_follow_ups(
    *, actor, leads: QuerySet[Lead], from_user, to_user, at: dt.datetime | None = None
) -> int:
    """
    Make ``to_user`` the representative of ``from_user``'s pending follow-ups on ``leads``
    (a queryset, used as a subquery), with their history, in a fixed number of statements
    whatever their number; returns how many.
    """
    _check_representative(actor=actor, representative=to_user)
    follow_ups = Communication.objects.filter(PENDING_FOLLOW_UP, our_representative=from_user, lead__in=leads)
    # Locked as read: the follow-ups recorded as moved are exactly the ones the update moves.
    moving = list(follow_ups.select_for_update(of=("self",)).only("pk", "customer_id"))
    moved = Communication.objects.filter(pk__in=[communication.pk for communication in moving]).update(
        our_representative=to_user, updated_at=at or timezone.now()
    )
    note_changes(
        record_type=RECORD_TYPE,
        records=moving,
        action=HistoryAction.UPDATED,
        actor=actor,
        changes_of=lambda record: {"our_representative_id": [from_user.pk, to_user.pk]},
        customer_id_of=lambda record: record.customer_id,
    )
    return moved


@dataclass(frozen=True)
class LeadReassignment:
    """How many leads, and pending follow-ups on them, ``reassign_leads_with_follow_ups`` moved."""

    leads: int
    follow_ups: int


@transaction.atomic
def reassign_leads_with_follow_ups(
    *, actor, from_user, to_user, statuses: Iterable[str] | None = None
) -> LeadReassignment:
    """
    Hand ``from_user``'s open leads (those in ``statuses`` only, when given) to ``to_user``, with
    the pending follow-ups ``from_user`` has on them, in one transaction and two statements
    whatever the number. Sales managers only (403); ``to_user`` must be another active user with
    a CRM role, and only open statuses can be named (400): see ``leads_to_reassign``.
    """
    leads = leads_to_reassign(actor=actor, from_user=from_user, to_user=to_user, statuses=statuses)
    now = timezone.now()
    # The communications first, then the leads: the lock order of this module, so a concurrent
    # edit never waits in a circle with us. The price is an instant between the two statements:
    # a lead converted or reassigned in it stays as that change left it while its follow-ups
    # move, and one assigned to ``from_user`` in it moves without them; either way the
    # follow-ups stay pending and listed.
    follow_ups = communication_reassign_follow_ups(
        actor=actor, leads=leads, from_user=from_user, to_user=to_user, at=now
    )
    moved = lead_reassign_bulk(actor=actor, from_user=from_user, to_user=to_user, statuses=statuses, at=now)
    return LeadReassignment(leads=moved, follow_ups=follow_ups)


# --- the follow-up digest -------------------------------------------------------------------------


def follow_up_digest_send(*, user_id: int, day: dt.date, connection=None) -> bool:
    """
    E-mail one representative their follow-ups of ``day`` (``communications/digest.py``).
    False, and nothing sent, when they have none that day, no e-mail address, or are deactivated.
    """
    user = get_user_model().objects.filter(pk=user_id, is_active=True).exclude(email="").first()
    if user is None:
        return False
    digests = follow_up_digests(day, user_id=user_id)
    if not digests:
        return False
    digest_email(digests[0], day, connection=connection).send()
    return True


def follow_up_digests_enqueue(*, day: dt.date) -> int:
    """
    Ask for one digest e-mail (a job) for each active representative with an e-mail address who
    has follow-ups on ``day``; the jobs start once the caller's transaction commits. Asking
    twice for the same day asks for nothing more (one job per representative and day). Returns
    how many representatives have one.
    """
    queued = 0
    for digest in follow_up_digests(day):
        user = digest.user
        if user is not None and user.is_active and user.email:
            job_create(
                kind="follow_up_digest",
                params={"user_id": user.pk, "day": day.isoformat()},
                key=f"follow_up_digest:{day.isoformat()}:{user.pk}",
            )
            queued += 1
    return queued


# --- merges (``crm_project/merging``): the communications of merged records move to the survivor ---

MERGE_LINKS = ("customer", "lead")


def communications_relink(*, actor, field: str, from_ids, to_id) -> dict[str, list[str]]:
    """
    Move every communication about the customers (``field="customer"``) or leads (``"lead"``)
    ``from_ids`` to ``to_id`` in one UPDATE, one history entry each, and recompute the
    survivor's ``last_contacted_at``; answer the moves for ``communications_relink_back``.
    """
    assert field in MERGE_LINKS
    moves = relink(
        Communication,
        field,
        from_ids=from_ids,
        to_id=to_id,
        record_type=RECORD_TYPE,
        actor=actor,
        timeline_field="customer_id",
    )
    _recompute_after_relink(field, [to_id])
    return moves


def communications_relink_back(*, actor, field: str, moves, current_id) -> None:
    """Undo ``communications_relink``; 409 naming a communication deleted or relinked since."""
    assert field in MERGE_LINKS
    relink_back(
        Communication,
        field,
        moves=moves,
        current_id=current_id,
        record_type=RECORD_TYPE,
        actor=actor,
        timeline_field="customer_id",
    )
    _recompute_after_relink(field, [current_id, *moves])


def _recompute_after_relink(field: str, ids) -> None:
    if field == "lead":
        _recompute_last_contacted(lead_ids=ids, customer_ids=())
    else:
        _recompute_last_contacted(lead_ids=(), customer_ids=ids)
