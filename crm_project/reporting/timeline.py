"""
A customer's timeline: one stream, newest first, of its communications and of the history of
the customer, its leads and its opportunities (stage moves included), for what the reader may
see. Cursor pagination: the cursor names the last item shown (its time, kind and id), and each
source is read from there with one keyset query, so a page costs the same at any depth and for
any page size.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime

from communications.api.serializers import CommunicationSerializer
from communications.selectors import communication_list_visible_to
from crm_project.core.history_words import in_words
from crm_project.core.models import HistoryEntry
from crm_project.core.roles import is_manager, system_actor
from customers.models import Customer
from leads.models import Lead
from leads.selectors import lead_visibility_q
from opportunities.models import Opportunity
from opportunities.selectors import opportunity_visibility_q

COMMUNICATION = "communication"
CHANGE = "change"
CAMPAIGN_SEND = "campaign_send"
ITEM_TYPES = (COMMUNICATION, CHANGE, CAMPAIGN_SEND)
# Items at the same instant come in this order (the higher first), then by id.
RANK = {COMMUNICATION: 2, CHANGE: 1, CAMPAIGN_SEND: 0}
# The records whose history a customer's timeline shows.
RECORD_MODELS = {"customer": Customer, "lead": Lead, "opportunity": Opportunity}
BAD_CURSOR = "This cursor was not given by the timeline; start again without one."


@dataclass(frozen=True)
class Position:
    """Where a page ends: the last item's time, rank and id."""

    at: dt.datetime
    rank: int
    id: str

    def encode(self) -> str:
        raw = f"{self.at.isoformat()}|{self.rank}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> Position:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            at_text, rank, item_id = raw.split("|")
            at = parse_datetime(at_text)
            if at is None or at.tzinfo is None:
                raise ValueError
            return cls(at=at, rank=int(rank), id=item_id)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise ValidationError({"cursor": BAD_CURSOR}) from None


@dataclass(frozen=True)
class Row:
    """Where one source's row sits in the stream: its time and id only; the page's rows are loaded after."""

    at: dt.datetime
    type: str
    sort_id: str

    @property
    def position(self) -> Position:
        return Position(at=self.at, rank=RANK[self.type], id=self.sort_id)

    @property
    def order(self) -> tuple:
        # History ids are numbers: zero-padded, they compare here as the database compares them.
        same_instant_id = self.sort_id.zfill(20) if self.type == CHANGE else self.sort_id
        return (self.at, RANK[self.type], same_instant_id)


@dataclass(frozen=True)
class Item:
    at: dt.datetime
    type: str
    record_type: str
    record_id: str
    summary: str
    data: dict[str, Any]


def _after(queryset: QuerySet, position: Position | None, *, at_field: str, rank: int, id_of=str) -> QuerySet:
    """The rows of one source that come after ``position`` in the timeline's order."""
    if position is None:
        return queryset
    if rank > position.rank:
        return queryset.filter(**{f"{at_field}__lt": position.at})
    if rank < position.rank:
        return queryset.filter(**{f"{at_field}__lte": position.at})
    return queryset.filter(
        Q(**{f"{at_field}__lt": position.at}) | Q(**{at_field: position.at, "id__lt": id_of(position.id)})
    )


def _communications(user, customer_id, position: Position | None, limit: int) -> list[Row]:
    rows = _after(
        communication_list_visible_to(user).filter(customer_id=customer_id),
        position,
        at_field="communication_date",
        rank=RANK[COMMUNICATION],
    ).order_by("-communication_date", "-id")[:limit]
    return [Row(at=at, type=COMMUNICATION, sort_id=str(pk)) for at, pk in rows.values_list("communication_date", "id")]


def _communication_items(ids: list[str]) -> dict[str, Item]:
    if not ids:
        return {}
    # Only the page's communications are loaded, and rendered by one serializer for them all.
    communications = list(communication_list_visible_to(system_actor()).filter(pk__in=ids).order_by())
    rendered = CommunicationSerializer(communications, many=True).data
    return {
        str(row.pk): Item(
            at=row.communication_date,
            type=COMMUNICATION,
            record_type="communication",
            record_id=str(row.pk),
            summary=f"{row.get_type_display()}, {row.get_direction_display().split(' (')[0].lower()}: {row.subject}",
            data=data,
        )
        for row, data in zip(communications, rendered, strict=True)
    }


def _history_visible_to(user, customer_id) -> Q:
    """
    A rep sees the history of the customer, and of its leads and opportunities that they may
    see; a manager sees it all, deleted records' history included. (A lead's entries show on the
    timeline of the customer it was converted into, an opportunity's on its customer's: only
    those are looked up, not all the rep may see.)
    """
    if is_manager(user):
        return Q()
    leads = Lead.objects.filter(lead_visibility_q(user), converted_customer_id=customer_id)
    opportunities = Opportunity.objects.filter(opportunity_visibility_q(user), customer_id=customer_id)
    return (
        Q(record_type="customer")
        | Q(record_type="lead", record_id__in=leads.values("id"))
        | Q(record_type="opportunity", record_id__in=opportunities.values("id"))
    )


def _summaries(entries: list[HistoryEntry]) -> dict[int, str]:
    """Each entry in words (``history_words``), by id: the linked records named once per kind of record."""
    summaries = {}
    for record_type, model in RECORD_MODELS.items():
        of_type = [entry for entry in entries if entry.record_type == record_type]
        for entry, words in zip(of_type, in_words(model, of_type), strict=True):
            head = f"{record_type.capitalize()} {words.what[:1].lower()}{words.what[1:]} by {words.who}"
            summaries[entry.pk] = f"{head}: {'; '.join(words.details)}" if words.details else head
    return summaries


def _changes(user, customer_id, position: Position | None, limit: int) -> list[Row]:
    rows = _after(
        HistoryEntry.objects.filter(customer_id=customer_id, record_type__in=RECORD_MODELS).filter(
            _history_visible_to(user, customer_id)
        ),
        position,
        at_field="at",
        rank=RANK[CHANGE],
        id_of=int,
    ).order_by("-at", "-id")[:limit]
    return [Row(at=at, type=CHANGE, sort_id=str(pk)) for at, pk in rows.values_list("at", "id")]


def _change_items(ids: list[str]) -> dict[str, Item]:
    if not ids:
        return {}
    entries = list(HistoryEntry.objects.filter(pk__in=[int(pk) for pk in ids]))
    summaries = _summaries(entries)
    return {
        str(entry.pk): Item(
            at=entry.at,
            type=CHANGE,
            record_type=entry.record_type,
            record_id=str(entry.record_id),
            summary=summaries[entry.pk],
            data={
                "action": entry.action,
                "actor_id": entry.actor_id,
                "actor_name": entry.actor_name,
                "source": entry.source,
                "changes": entry.changes,
            },
        )
        for entry in entries
    }


def parse_types(text: str | None) -> set[str]:
    if not text:
        return set(ITEM_TYPES)
    types = {part.strip() for part in text.split(",") if part.strip()}
    unknown = sorted(types - set(ITEM_TYPES))
    if unknown:
        raise ValidationError(
            {"types": f"Unknown item types: {', '.join(unknown)}. Choose from: {', '.join(ITEM_TYPES)}."}
        )
    return types


def customer_timeline(user, customer_id: uuid.UUID, *, types: Iterable[str], cursor: str | None, page_size: int):
    """One page of the timeline and the cursor of the next (None on the last page)."""
    position = Position.decode(cursor) if cursor else None
    if position is not None and position.rank == RANK[CHANGE] and not position.id.isdigit():
        raise ValidationError({"cursor": BAD_CURSOR})
    rows: list[Row] = []
    if COMMUNICATION in types:
        rows += _communications(user, customer_id, position, page_size + 1)
    if CHANGE in types:
        rows += _changes(user, customer_id, position, page_size + 1)
    rows.sort(key=lambda row: row.order, reverse=True)
    page = rows[:page_size]
    next_cursor = page[-1].position.encode() if len(rows) > page_size else None
    # The page's rows were chosen by their keys alone (the sources' extra rows are never built);
    # now each kind is loaded and rendered at once. Whoever may see a row chose it above.
    rendered = {
        COMMUNICATION: _communication_items([row.sort_id for row in page if row.type == COMMUNICATION]),
        CHANGE: _change_items([row.sort_id for row in page if row.type == CHANGE]),
    }
    return [rendered[row.type][row.sort_id] for row in page], next_cursor
