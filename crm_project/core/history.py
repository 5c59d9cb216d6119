"""
The history of every change: who changed what, when, through what, and from which request.

The services write it, in the transaction of the change itself (``record_change``; bulk paths
``record_changes``), so a change and its history commit or roll back together, whatever made
the change: the API, the admin, a command, an import, a background task, a merge. What made it
comes from the ``change_context`` in force: the middleware sets the API's or the admin's, with
the request's id; the job runner sets a task's; a command runs as "command".

Values are kept as the API shows them (ids for links, ISO 8601 for times, numbers for money),
under the API's field names (``assigned_to_id``), so that ``changes`` reads like the API.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import decimal
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection, models
from django.db.models import QuerySet
from django.utils import timezone

from crm_project.core.copying import bulk_insert
from crm_project.core.models import HistoryEntry

SOURCES = ("api", "admin", "command", "import", "task", "merge")


@dataclass(frozen=True)
class ChangeContext:
    source: str = "command"
    request_id: str = ""


_CONTEXT: contextvars.ContextVar[ChangeContext | None] = contextvars.ContextVar("crm_change_context", default=None)
# Outside any context (a shell, a command): a command's change.
_COMMAND = ChangeContext()


def current_context() -> ChangeContext:
    return _CONTEXT.get() or _COMMAND


@contextmanager
def change_context(*, source: str, request_id: str | None = None) -> Iterator[ChangeContext]:
    """Changes made inside are recorded as made through ``source`` (and the request ``request_id``)."""
    if source not in SOURCES:
        raise ValueError(f"Unknown change source {source!r}.")
    context = ChangeContext(
        source=source, request_id=request_id if request_id is not None else current_context().request_id
    )
    token = _CONTEXT.set(context)
    try:
        yield context
    finally:
        _CONTEXT.reset(token)


# --- values as the API shows them -------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, (dt.date, uuid.UUID)):
        return str(value)
    if isinstance(value, models.Model):
        return jsonable(value.pk)
    return value


def _api_name(field: models.Field) -> str:
    return field.attname if field.is_relation else field.name


def snapshot(instance: models.Model, names: Iterable[str]) -> dict[str, Any]:
    """The values of ``names`` (model field names) as the API shows them, under the API's names."""
    values = {}
    for name in names:
        field = instance._meta.get_field(name)
        values[_api_name(field)] = jsonable(getattr(instance, field.attname))
    return values


def changes_between(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list]:
    """``{"field": [old, new]}`` for each value that differs."""
    return {name: [before.get(name), value] for name, value in after.items() if before.get(name) != value}


# --- writing it ---------------------------------------------------------------------------------------


def _actor_fields(actor) -> dict[str, Any]:
    if getattr(actor, "pk", None) is None:
        return {"actor": None, "actor_name": "system"}
    return {"actor": actor, "actor_name": actor.get_full_name() or actor.get_username()}


def entry(
    *,
    record_type: str,
    record_id,
    action: str,
    actor,
    changes: Mapping[str, Any] | None = None,
    customer_id=None,
    at: dt.datetime | None = None,
) -> HistoryEntry:
    """An unsaved entry, with the change context in force."""
    context = current_context()
    return HistoryEntry(
        at=at or timezone.now(),
        record_type=record_type,
        record_id=record_id,
        customer_id=customer_id,
        action=action,
        source=context.source,
        request_id=context.request_id,
        changes=dict(changes or {}),
        **_actor_fields(actor),
    )


def record_change(**kwargs: Any) -> HistoryEntry:
    """Write one entry (see ``entry``), in the caller's transaction."""
    new = entry(**kwargs)
    new.save()
    return new


def record_changes(entries: Iterable[HistoryEntry]) -> int:
    """Write many entries at once (the bulk paths), in the caller's transaction."""
    entries = list(entries)
    # Through COPY on PostgreSQL: a merge writes a thousand entries or more at once.
    bulk_insert(entries)
    return len(entries)


def relink_customer(*, record_type: str, record_ids: Iterable, customer_id) -> int:
    """
    Show the history of these records on ``customer_id``'s timeline from now on (an opportunity
    moved to another customer, a lead converted into one). The entries themselves are unchanged.
    """
    return HistoryEntry.objects.filter(record_type=record_type, record_id__in=list(record_ids)).update(
        customer_id=customer_id
    )


def move_timeline(*, from_customer_ids: Iterable, to_customer_id) -> dict[str, list[int]]:
    """
    Show on ``to_customer_id``'s timeline every entry shown on one of ``from_customer_ids``'
    (a merge of customers; the entries themselves are unchanged). Answers the entries moved,
    by the customer they came from, for ``move_timeline_back``. One UPDATE per customer.
    """
    table = HistoryEntry._meta.db_table
    moves: dict[str, list[int]] = {}
    with connection.cursor() as cursor:
        for customer_id in from_customer_ids:
            cursor.execute(
                f"UPDATE {table} SET customer_id = %s WHERE customer_id = %s RETURNING id",
                [_db_uuid(to_customer_id), _db_uuid(customer_id)],
            )
            moves[str(customer_id)] = [row[0] for row in cursor.fetchall()]
    return moves


def move_timeline_back(moves: Mapping[str, list[int]]) -> None:
    """Undo ``move_timeline``: each entry back on the timeline it came from."""
    for customer_id, entry_ids in moves.items():
        HistoryEntry.objects.filter(pk__in=entry_ids).update(customer_id=customer_id)


def _db_uuid(value) -> Any:
    field = HistoryEntry._meta.get_field("customer_id")
    return field.get_db_prep_value(field.to_python(value), connection)


# --- reading it ---------------------------------------------------------------------------------------


def history_of(*, record_type: str, record_id) -> QuerySet[HistoryEntry]:
    """One record's entries, newest first (the order its history is read in everywhere)."""
    return HistoryEntry.objects.filter(record_type=record_type, record_id=record_id).order_by("-at", "-id")
