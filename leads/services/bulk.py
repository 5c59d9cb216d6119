"""
Leads in bulk: imports (``lead_bulk_create``, and ``lead_import_start`` for the background import
of a file) and handing a rep's open leads over (``lead_reassign_bulk``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from crm_project.core.changes import created, note_changes
from crm_project.core.integrity import violation_for
from crm_project.core.jobs.services import job_create
from crm_project.core.models import HistoryAction, Job
from crm_project.core.numbering import reserve_daily_numbers
from crm_project.core.roles import check_crm_user, is_manager
from crm_project.core.services import bulk_insert
from leads.models import OPEN_STATUSES, Lead

from .records import new_lead
from .rules import (
    EMAIL_TAKEN,
    LEAD_NUMBER_PREFIX,
    RECORD_TYPE,
    REQUIRED_FIELDS,
    TRACKED_FIELDS,
    check_assignee,
    check_required,
)

# Rows per insert (and per progress report).
BULK_CREATE_BATCH = 1000
# Emails per lookup of the unique index. Not more: from about 2,000 values on a table of
# 100,000 leads, PostgreSQL estimates a scan of the whole table cheaper than that many index
# probes, and takes 70 ms (on a million leads, far more) instead of 1 ms per 500.
EMAIL_LOOKUP_BATCH = 500


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
        check_required(data, REQUIRED_FIELDS)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        check_assignee(actor=actor, assignee=data.get("assigned_to"))
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
    index, numbers come as one block of today's sequence, and leads are inserted in batches
    (``COPY`` on PostgreSQL).
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
                    new_lead(actor=actor, lead_number=number, data=data)
                    for number, data in zip(numbers[start : start + len(batch)], batch, strict=True)
                ]
                bulk_insert(leads)
                note_changes(
                    record_type=RECORD_TYPE,
                    records=leads,
                    action=HistoryAction.CREATED,
                    actor=actor,
                    changes_of=lambda lead: created(lead, ("lead_number", *TRACKED_FIELDS)),
                    event="lead.created",
                )
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


def leads_to_reassign(*, actor, from_user, to_user, statuses: Iterable[str] | None = None) -> QuerySet[Lead]:
    """
    ``from_user``'s open leads (those in ``statuses`` only, when given) that a reassignment to
    ``to_user`` would move, once the request is checked: sales managers only (403); ``to_user``
    another active user with a CRM role, and only open statuses named (400). Writes nothing.
    """
    if not is_manager(actor):
        raise PermissionDenied("Only sales managers can reassign leads in bulk.")
    if to_user.pk == from_user.pk:
        raise ValidationError("The leads already belong to this user: name someone else to move them to.")
    check_crm_user(to_user, field=None)
    wanted = set(statuses) if statuses else set(OPEN_STATUSES)
    if not wanted <= OPEN_STATUSES:
        raise ValidationError({"status": f"Only open leads can be reassigned: {', '.join(sorted(OPEN_STATUSES))}."})
    return Lead.objects.filter(assigned_to=from_user, status__in=sorted(wanted))


def lead_reassign_bulk(
    *, actor, from_user, to_user, statuses: Iterable[str] | None = None, at: dt.datetime | None = None
) -> int:
    """
    Move ``from_user``'s open leads (see ``leads_to_reassign``) to ``to_user``, with their
    history, in a fixed number of statements whatever their number; return how many moved.
    Their pending follow-ups go with them when the communications domain's
    ``reassign_leads_with_follow_ups`` is the caller.
    """
    leads = leads_to_reassign(actor=actor, from_user=from_user, to_user=to_user, statuses=statuses)
    with transaction.atomic():
        # Locked as read: the leads recorded as moved are exactly the leads the update moves.
        moving = list(leads.select_for_update().only("pk"))
        moved = Lead.objects.filter(pk__in=[lead.pk for lead in moving]).update(
            assigned_to=to_user, updated_at=at or timezone.now()
        )
        note_changes(
            record_type=RECORD_TYPE,
            records=moving,
            action=HistoryAction.UPDATED,
            actor=actor,
            changes_of=lambda lead: {"assigned_to_id": [from_user.pk, to_user.pk]},
            event="lead.assigned",
        )
    return moved


def lead_import_start(*, actor, upload: File, dry_run: bool = False, skip_invalid: bool = False, assign_to=None) -> Job:
    """
    Ask for an import of a lead CSV in the background (``leads/jobs.py``), by the rules of
    ``manage.py import_leads``. Sales managers only (403); ``assign_to`` (for rows without an
    assignee) must be an active CRM user (400).
    """
    if not is_manager(actor):
        raise PermissionDenied("Only sales managers can import leads.")
    check_crm_user(assign_to, field="assign_to_id")
    return job_create(
        kind="lead_import",
        owner=actor,
        params={
            "dry_run": dry_run,
            "skip_invalid": skip_invalid,
            "assign_to_id": assign_to.pk if assign_to is not None else None,
            "file_name": upload.name,
        },
        input_file=upload,
    )
