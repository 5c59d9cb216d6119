"""
Writes of leads. The API, the admin, the demo data and other domains' services all come
through these functions. Invariants guarded here:

- ``lead_number`` is ``LEAD-YYYYMMDD-XXXX`` from the shared daily counter, taken inside the
  creating transaction: never duplicated, contiguous, also under concurrent creates;
- ``email`` is unique across all leads, compared case-insensitively: a friendly 400 on
  ``email`` here; the ``lead_email_ci_unique`` index is the last line against races;
- a new lead is always ``new``; an update may set only new, contacted or lost (400 on
  ``status``): qualified comes only from ``lead_qualify``, converted only from ``lead_convert``;
- a converted lead is final: every later change is a 409. A lost lead cannot be qualified or
  converted (409) but may be reopened by an update;
- the qualification flag follows the status (constraint ``lead_qualification_matches_status``):
  qualifying sets status qualified and ``qualified_at``; disqualifying, or moving a lead back to
  new or contacted, clears both; a lead lost or converted keeps what it had;
- converting links an existing customer, or creates one from the lead's company and contact
  data in the same transaction (the lead's assignee becomes its account manager);
- a sales rep may assign a lead only to themselves or to nobody (403 naming ``assigned_to_id``);
- only managers delete leads (403), and never one that communications refer to (409);
- notes given with qualify, convert or mark-lost are appended to the lead's notes, dated and
  signed; they never replace what is there;
- every write advances ``updated_at`` (the ETag), and update/transition services check the
  client's ``If-Match`` under the row lock;
- the bulk paths keep every rule above: ``lead_bulk_create`` (imports) checks each row as
  ``lead_create`` does, emails also against the other rows of the same call, and numbers the
  leads from one block of today's sequence; ``lead_reassign_bulk`` (managers only) moves a
  rep's open leads and their pending follow-ups to an active CRM user in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, Q, Value
from django.db.models.functions import Lower
from django.utils import timezone

from crm_project.core.exceptions import Conflict
from crm_project.core.integrity import violation_for
from crm_project.core.numbering import next_daily_number, reserve_daily_numbers
from crm_project.core.roles import check_crm_user, has_crm_role, is_manager
from crm_project.core.services import apply_changes, lock_for_update
from customers.models import Customer
from customers.services import customer_create

from .models import OPEN_STATUSES, UPDATABLE_STATUSES, Lead, LeadStatus

LEAD_NUMBER_PREFIX = "LEAD"

# What a client may set when creating or updating a lead (an update may also set ``status``,
# through its own rules).
CREATE_FIELDS = (
    "company_name",
    "industry",
    "company_size",
    "website",
    "contact_person",
    "title_position",
    "email",
    "phone",
    "city",
    "state",
    "country",
    "source",
    "priority",
    "estimated_deal_value",
    "requirements",
    "notes",
    "assigned_to",
    "next_follow_up_date",
)
REQUIRED_FIELDS = ("company_name", "contact_person", "email")

EMAIL_TAKEN = "A lead with this email already exists."
SCORE_RANGE = "Qualification score must be between 0 and 100."

# Bulk paths: rows per INSERT, and emails per lookup of the unique index.
BULK_CREATE_BATCH = 1000
EMAIL_LOOKUP_BATCH = 2000


# --- rules shared by several services -------------------------------------------------------


def _check_assignee(*, actor, assignee) -> None:
    check_crm_user(assignee, field="assigned_to_id")
    if assignee is not None and assignee != actor and not is_manager(actor):
        raise PermissionDenied(
            "Sales reps can assign leads only to themselves or leave them unassigned (assigned_to_id)."
        )


def _check_required(data: Mapping[str, Any], names) -> None:
    missing = {name: "This field is required." for name in names if not data.get(name)}
    if missing:
        raise ValidationError(missing)


def _check_email_free(email: str, *, exclude_pk=None) -> None:
    # Compared exactly as the unique index compares (LOWER on both sides, in the database),
    # so that index serves the lookup and the two never disagree about what "same" means.
    clashes = Lead.objects.annotate(email_lower=Lower("email")).filter(email_lower=Lower(Value(email)))
    if exclude_pk is not None:
        clashes = clashes.exclude(pk=exclude_pk)
    if clashes.exists():
        raise ValidationError({"email": EMAIL_TAKEN})


def _set_status(lead: Lead, status: str) -> None:
    """Move ``lead`` to ``status``, keeping the qualification flag in step with it."""
    lead.status = status
    if status in (LeadStatus.NEW, LeadStatus.CONTACTED):
        lead.is_qualified = False
        lead.qualified_at = None


def _signature(actor) -> str:
    return actor.get_username() if getattr(actor, "pk", None) else "system"


def _append_note(lead: Lead, *, actor, text: str | None) -> None:
    """Add ``text`` to the lead's notes as ``[2025-12-15 10:30 UTC · manager] text``."""
    text = (text or "").strip()
    if not text:
        return
    stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M %Z")
    entry = f"[{stamp} · {_signature(actor)}] {text}"
    existing = lead.notes.rstrip()
    lead.notes = f"{existing}\n{entry}" if existing else entry


def _describe(lead: Lead) -> str:
    return f"{lead.lead_number} is {lead.get_status_display().lower()}"


# --- create, update, delete ------------------------------------------------------------------


@transaction.atomic
def lead_create(*, actor, data: Mapping[str, Any]) -> Lead:
    """A new lead, always ``new``, numbered from today's sequence; ``created_by`` is the actor."""
    _check_required(data, REQUIRED_FIELDS)
    _check_assignee(actor=actor, assignee=data.get("assigned_to"))
    # The number first: its counter row stays locked until this transaction ends, so
    # concurrent creators queue here, and the email check below then sees every lead
    # committed before this one (a same-email race gets the friendly 400, not the index's).
    lead_number = next_daily_number(LEAD_NUMBER_PREFIX)
    _check_email_free(data["email"])
    lead = _new_lead(actor=actor, lead_number=lead_number, data=data)
    lead.save()
    return lead


def _new_lead(*, actor, lead_number: str, data: Mapping[str, Any]) -> Lead:
    """An unsaved new lead: always ``new``, created by the actor (nobody for the system)."""
    lead = Lead(
        lead_number=lead_number,
        status=LeadStatus.NEW,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    apply_changes(lead, data, allowed=CREATE_FIELDS)
    return lead


@transaction.atomic
def lead_update(*, actor, lead: Lead, data: Mapping[str, Any], if_match: str | None = None) -> Lead:
    """
    Change the lead's editable fields. ``status`` may become new, contacted or lost (a lost
    lead is reopened this way); a converted lead cannot be changed at all (409).
    """
    lead = lock_for_update(lead, if_match=if_match)
    if not lead.can_be_updated():
        raise Conflict(f"{_describe(lead)}; a converted lead can no longer be changed.")
    if "assigned_to" in data and getattr(data["assigned_to"], "pk", None) != lead.assigned_to_id:
        _check_assignee(actor=actor, assignee=data["assigned_to"])
    _check_required(data, [name for name in REQUIRED_FIELDS if name in data])
    if "email" in data and data["email"] != lead.email:
        _check_email_free(data["email"], exclude_pk=lead.pk)

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
        _set_status(lead, new_status)
        changed = True
    changed = bool(apply_changes(lead, data, allowed=CREATE_FIELDS)) or changed
    if changed:
        lead.touch()
        lead.save()
    return lead


@transaction.atomic
def lead_delete(*, actor, lead: Lead, if_match: str | None = None) -> None:
    if not is_manager(actor):
        raise PermissionDenied("Only sales managers can delete leads.")
    lead = lock_for_update(lead, if_match=if_match)
    try:
        # The savepoint keeps the outer transaction usable after a refused delete.
        with transaction.atomic():
            lead.delete()
    except ProtectedError as exc:
        names = sorted({str(obj._meta.verbose_name_plural) for obj in exc.protected_objects})
        raise Conflict(
            f"Cannot delete {lead.lead_number}: {', '.join(names)} refer to it. Mark the lead lost instead."
        ) from None


# --- transitions ------------------------------------------------------------------------------


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
        raise ValidationError({"qualification_score": SCORE_RANGE})
    lead = lock_for_update(lead, if_match=if_match)
    if not lead.can_be_qualified():
        raise Conflict(f"{_describe(lead)}; only an open lead can be qualified.")

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
    _append_note(lead, actor=actor, text=notes)
    lead.touch()
    lead.save()
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
        raise Conflict(f"{_describe(lead)}; only an open lead can be converted.")
    if customer is None:
        customer = customer_create(actor=actor, data=_customer_data_from(lead))
    lead.status = LeadStatus.CONVERTED
    lead.converted_customer = customer
    lead.converted_at = timezone.now()
    _append_note(lead, actor=actor, text=notes)
    lead.touch()
    lead.save()
    return lead


@transaction.atomic
def lead_mark_lost(*, actor, lead: Lead, notes: str | None = None, if_match: str | None = None) -> Lead:
    """An open lead is lost (it keeps its qualification as history); converted or lost: 409."""
    lead = lock_for_update(lead, if_match=if_match)
    if not lead.can_be_marked_lost():
        raise Conflict(f"{_describe(lead)}; only an open lead can be marked lost.")
    _set_status(lead, LeadStatus.LOST)
    _append_note(lead, actor=actor, text=notes)
    lead.touch()
    lead.save()
    return lead


@transaction.atomic
def lead_mark_contacted(*, actor, lead: Lead, if_match: str | None = None) -> Lead:
    """
    A new lead becomes contacted (a lost one is reopened as contacted). A qualified lead is
    refused (409): withdrawing a qualification goes through ``lead_qualify``.
    """
    lead = lock_for_update(lead, if_match=if_match)
    if not lead.can_be_marked_contacted():
        raise Conflict(f"{_describe(lead)}; only a new or lost lead can be marked contacted.")
    _set_status(lead, LeadStatus.CONTACTED)
    lead.touch()
    lead.save()
    return lead


@transaction.atomic
def lead_assign(*, actor, lead: Lead, assignee, if_match: str | None = None) -> Lead:
    """Assign the lead to ``assignee`` (or to nobody); reps only to themselves (403)."""
    lead = lock_for_update(lead, if_match=if_match)
    if not lead.can_be_updated():
        raise Conflict(f"{_describe(lead)}; a converted lead can no longer be changed.")
    if getattr(assignee, "pk", None) == lead.assigned_to_id:
        return lead
    _check_assignee(actor=actor, assignee=assignee)
    lead.assigned_to = assignee
    lead.touch()
    lead.save()
    return lead


# --- bulk paths: imports and reassignment -------------------------------------------------------


@dataclass(frozen=True)
class LeadBulkCreateResult:
    """
    What ``lead_bulk_create`` decided, by the caller's row keys: the rows that pass every rule
    (``accepted``), the refused ones with their errors by field (``rejected``), and the numbers
    of the leads created, in row order (none for a dry run or a refused all-or-nothing call).
    """

    accepted: list[Hashable]
    rejected: dict[Hashable, dict[str, list[str]]]
    numbers: list[str]

    @property
    def created(self) -> int:
        return len(self.numbers)


def _chunks(items: Sequence, size: int) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _row_errors(*, actor, data: Mapping[str, Any]) -> dict[str, list[str]]:
    """The rules of ``lead_create`` that need no query, for one row."""
    errors: dict[str, list[str]] = {}
    try:
        _check_required(data, REQUIRED_FIELDS)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        _check_assignee(actor=actor, assignee=data.get("assigned_to"))
    except ValidationError as exc:
        errors["assigned_to"] = exc.messages
    except PermissionDenied as exc:
        errors["assigned_to"] = [str(exc)]
    return errors


def _emails_taken(emails: Sequence[str]) -> set[str]:
    """Which of ``emails`` existing leads hold (lower-cased): one lookup of the unique index per batch."""
    taken: set[str] = set()
    for batch in _chunks(emails, EMAIL_LOOKUP_BATCH):
        # ``LOWER(email) IN (...)`` is the index's own expression. The values are lowered here
        # rather than by LOWER() on each (thousands of expressions to compile per batch): the
        # same thing for the ASCII that email addresses are made of; a rare difference in an
        # international domain name is left to the index itself (see lead_bulk_create).
        clashes = (
            Lead.objects.annotate(email_lower=Lower("email"))
            .filter(email_lower__in=[email.lower() for email in batch])
            .values_list("email_lower", flat=True)
            .order_by()
        )
        taken.update(clashes)
    return taken


def _reject_taken_emails(candidates: dict[Hashable, Mapping[str, Any]], rejected: dict) -> None:
    taken = _emails_taken([data["email"] for data in candidates.values()])
    for key, data in candidates.items():
        if data["email"].lower() in taken:
            rejected[key] = {"email": [EMAIL_TAKEN]}


def lead_bulk_create(
    *,
    actor,
    rows: Mapping[Hashable, Mapping[str, Any]],
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> LeadBulkCreateResult:
    """
    Create many leads by the rules of ``lead_create``, in one transaction: required fields,
    the rep's assignee rule, and emails unique case-insensitively, against existing leads
    and against the other rows (the first row with an email keeps it).

    ``rows`` maps the caller's keys (an import's row numbers) to data as ``lead_create`` takes
    it, in order. All or nothing by default: one refused row and nothing is created.
    ``skip_invalid`` creates the rows that pass; ``dry_run`` decides every row and writes
    nothing. ``progress`` is called with the number of leads written after each batch.

    Fast at tens of thousands of rows: emails are looked up in batches through the unique
    index, numbers come as one block of today's sequence, and leads are inserted in batches.
    """
    rejected: dict[Hashable, dict[str, list[str]]] = {}
    first_row_with: dict[str, Hashable] = {}
    for key, data in rows.items():
        errors = _row_errors(actor=actor, data=data)
        email = (data.get("email") or "").lower()
        if email in first_row_with:
            errors.setdefault("email", []).append(f"Same email as row {first_row_with[email]}.")
        elif email:
            first_row_with[email] = key
        if errors:
            rejected[key] = errors
    candidates = {key: data for key, data in rows.items() if key not in rejected}

    def result(numbers: list[str]) -> LeadBulkCreateResult:
        return LeadBulkCreateResult(
            accepted=[key for key in candidates if key not in rejected],
            rejected={key: rejected[key] for key in rows if key in rejected},
            numbers=numbers,
        )

    if dry_run:
        _reject_taken_emails(candidates, rejected)
        return result([])
    try:
        with transaction.atomic():
            day = timezone.localdate()
            # Today's counter row is locked before emails are checked, as in lead_create:
            # concurrent creators queue on it until this transaction ends, so the check sees
            # every lead committed before ours. Reserving no number takes just the lock.
            reserve_daily_numbers(LEAD_NUMBER_PREFIX, day, 0)
            _reject_taken_emails(candidates, rejected)
            if rejected and not skip_invalid:
                return result([])
            accepted = [data for key, data in candidates.items() if key not in rejected]
            numbers = reserve_daily_numbers(LEAD_NUMBER_PREFIX, day, len(accepted)) if accepted else []
            for start in range(0, len(accepted), BULK_CREATE_BATCH):
                batch = accepted[start : start + BULK_CREATE_BATCH]
                leads = [
                    _new_lead(actor=actor, lead_number=number, data=data)
                    for number, data in zip(numbers[start : start + len(batch)], batch, strict=True)
                ]
                Lead.objects.bulk_create(leads)
                if progress is not None:
                    progress(len(leads))
    except IntegrityError as exc:
        # The last line: a lead written around the lock meanwhile (an update to the same
        # email). The whole call was rolled back.
        violation = violation_for(exc)
        if violation is None:
            raise
        raise ValidationError({violation.field: [violation.message]}) from None
    return result(numbers)


@dataclass(frozen=True)
class LeadReassignment:
    """How many leads, and pending follow-ups on them, ``lead_reassign_bulk`` moved."""

    leads: int
    follow_ups: int


@transaction.atomic
def lead_reassign_bulk(*, actor, from_user, to_user, statuses: Iterable[str] | None = None) -> LeadReassignment:
    """
    Move ``from_user``'s open leads (those in ``statuses`` only, when given) to ``to_user``,
    with the pending follow-ups ``from_user`` has on them, in one transaction and two
    statements whatever the number of leads. Sales managers only (403); ``to_user`` must be
    another active user with a CRM role, and only open statuses can be named (400).
    """
    # communications depends on leads (lead_record_contact): imported here, not at the top.
    from communications.services import communication_reassign_follow_ups

    if not is_manager(actor):
        raise PermissionDenied("Only sales managers can reassign leads in bulk.")
    if to_user.pk == from_user.pk:
        raise ValidationError("The leads already belong to this user: name someone else to move them to.")
    if not to_user.is_active or not has_crm_role(to_user):
        raise ValidationError(f"{to_user.get_username()} is not an active user with a CRM role.")
    wanted = set(statuses) if statuses else set(OPEN_STATUSES)
    if not wanted <= OPEN_STATUSES:
        raise ValidationError({"status": f"Only open leads can be reassigned: {', '.join(sorted(OPEN_STATUSES))}."})

    leads = Lead.objects.filter(assigned_to=from_user, status__in=sorted(wanted))
    now = timezone.now()
    # The communications first, then the leads: the lock order of the communication services
    # (communication rows before lead rows), so a concurrent edit never waits in a circle with
    # us. The price is an instant between the two statements: a lead converted or reassigned
    # in it stays as that change left it while its follow-ups move, and one assigned to
    # ``from_user`` in it moves without them; either way the follow-ups stay pending and listed.
    follow_ups = communication_reassign_follow_ups(
        actor=actor, leads=leads, from_user=from_user, to_user=to_user, at=now
    )
    moved = leads.update(assigned_to=to_user, updated_at=now)
    return LeadReassignment(leads=moved, follow_ups=follow_ups)


# --- bookkeeping for other domains -------------------------------------------------------------


def lead_record_contact(*, lead_id, contacted_at) -> None:
    """
    A communication about the lead was logged: move ``last_contacted_at`` forward (never
    back), and a lead still ``new`` becomes ``contacted`` (contract, beyond the seed).
    """
    # Two conditional UPDATEs, each atomic on its own, so concurrent loggers cannot undo
    # each other: the timestamp only moves forward, and only a new lead changes status.
    Lead.objects.filter(pk=lead_id).filter(
        Q(last_contacted_at__isnull=True) | Q(last_contacted_at__lt=contacted_at)
    ).update(last_contacted_at=contacted_at, updated_at=timezone.now())
    Lead.objects.filter(pk=lead_id, status=LeadStatus.NEW).update(
        status=LeadStatus.CONTACTED, updated_at=timezone.now()
    )
