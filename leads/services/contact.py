"""
A lead's contact bookkeeping: ``last_contacted_at`` and the move from new to contacted. The
communications domain calls these as communications about a lead are logged, moved or deleted;
only these functions write those fields.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping

from django.db.models import Q
from django.utils import timezone

from crm_project.core import history
from crm_project.core.models import HistoryAction
from crm_project.core.services import refresh_derived, relink, relink_back
from leads.models import Lead, LeadStatus

from .rules import RECORD_TYPE


def lead_record_contact(*, actor, lead_id, contacted_at: dt.datetime) -> None:
    """
    A communication about the lead was logged: move ``last_contacted_at`` forward (never
    back), and a lead still ``new`` becomes ``contacted`` (recorded in its history as ``actor``'s).
    """
    # Two conditional UPDATEs, each atomic on its own, so concurrent loggers cannot undo
    # each other: the timestamp only moves forward, and only a new lead changes status.
    Lead.objects.filter(pk=lead_id).filter(
        Q(last_contacted_at__isnull=True) | Q(last_contacted_at__lt=contacted_at)
    ).update(last_contacted_at=contacted_at, updated_at=timezone.now())
    if Lead.objects.filter(pk=lead_id, status=LeadStatus.NEW).update(
        status=LeadStatus.CONTACTED, updated_at=timezone.now()
    ):
        history.record_change(
            record_type=RECORD_TYPE,
            record_id=lead_id,
            action=HistoryAction.UPDATED,
            actor=actor,
            changes={"status": [LeadStatus.NEW.value, LeadStatus.CONTACTED.value]},
        )


def lead_refresh_last_contacted(*, lead_ids: Iterable, latest_contact: Callable[[set], Mapping]) -> None:
    """
    Recompute ``last_contacted_at`` of the leads ``lead_ids`` after communications about them
    were moved or deleted: ``latest_contact(ids)`` gives the latest communication date per lead
    (the communications domain reads it, under the lock ``refresh_derived`` takes first).
    """
    refresh_derived(Lead, "last_contacted_at", lead_ids, compute=latest_contact)


def leads_relink_converted_customer(*, actor, from_ids, to_id) -> dict[str, list[str]]:
    """
    A merge of customers: the leads converted into ``from_ids`` now name ``to_id`` as their
    customer (one history entry each); answer the moves for ``leads_relink_converted_customer_back``.
    """
    return relink(
        Lead,
        "converted_customer",
        from_ids=from_ids,
        to_id=to_id,
        record_type=RECORD_TYPE,
        actor=actor,
        timeline_field="converted_customer_id",
    )


def leads_relink_converted_customer_back(*, actor, moves, current_id) -> None:
    """Undo ``leads_relink_converted_customer``; 409 naming a lead deleted or relinked since."""
    relink_back(
        Lead,
        "converted_customer",
        moves=moves,
        current_id=current_id,
        record_type=RECORD_TYPE,
        actor=actor,
        timeline_field="converted_customer_id",
    )
