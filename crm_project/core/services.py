"""
Small write helpers every domain service uses: row locks, applying validated changes, keeping
a derived field true, dated notes, deletes refused while other records refer to the row,
inserting many new rows at once, and moving the rows that refer to one record to another (a
merge: ``relink``) and back (its undo: ``relink_back``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeVar

from django.db import connections, models, router, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from crm_project.core import history
from crm_project.core.copying import bulk_insert  # noqa: F401 - one of the helpers every service imports from here
from crm_project.core.exceptions import Conflict, deletion_refused
from crm_project.core.history import snapshot
from crm_project.core.models import HistoryAction
from crm_project.core.versioning import check_if_match

M = TypeVar("M", bound=models.Model)


def lock_for_update(instance: M, *, if_match: str | None = None) -> M:
    """
    Re-read ``instance`` under a row lock, then check the client's ``If-Match`` against it.

    ``no_key=True`` (FOR NO KEY UPDATE): the row's key is not changing, so rows that merely
    reference it (a communication inserted for this lead) are not blocked meanwhile.
    """
    locked = type(instance)._default_manager.select_for_update(no_key=True).get(pk=instance.pk)
    check_if_match(locked, if_match)
    return locked


def apply_changes(instance: models.Model, data: Mapping, *, allowed: Iterable[str]) -> list[str]:
    """Set the ``allowed`` keys of ``data`` on ``instance``; return the names that changed."""
    changed = []
    for name in allowed:
        if name in data and getattr(instance, name) != data[name]:
            setattr(instance, name, data[name])
            changed.append(name)
    return changed


def apply_tracked_changes(instance: models.Model, data: Mapping, *, allowed: Iterable[str]) -> dict[str, list]:
    """``apply_changes``, answering what changed as the history records it: ``{"field": [old, new]}``."""
    allowed = tuple(allowed)
    before = snapshot(instance, allowed)
    after = snapshot(instance, apply_changes(instance, data, allowed=allowed))
    return {name: [before[name], value] for name, value in after.items()}


def refresh_derived(model: type[models.Model], field: str, ids: Iterable, *, compute: Callable[[set], Mapping]) -> list:
    """
    Set ``field`` of the ``model`` rows ``ids`` to what ``compute(ids)`` derives for them (a
    value per id; an id it leaves out gets ``None``); return the ids whose value changed.

    The rows are locked first, in key order, and ``compute`` reads after that: a concurrent
    writer of what the value derives from either committed before the lock (and is read) or
    waits behind it (and then sees ours), so no update is lost. Only rows whose value changes
    are written, with ``updated_at`` advanced, so an unrelated edit leaves a record's ETag alone.
    """
    ids = {pk for pk in ids if pk is not None}
    if not ids:
        return []
    manager = model._default_manager
    current = dict(manager.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk").values_list("pk", field))
    derived = compute(set(current))
    now = timezone.now()
    changed = [pk for pk, value in current.items() if derived.get(pk) != value]
    for pk in changed:
        manager.filter(pk=pk).update(**{field: derived.get(pk), "updated_at": now})
    return changed


def append_note(existing: str, text: str | None, *, actor, at: dt.datetime | None = None) -> str:
    """
    ``existing`` notes with ``text`` added as a dated, signed line: notes are a log, a new note
    never replaces what is there. ``[2025-12-15 10:30 IST · manager] Budget confirmed``, in
    TIME_ZONE; "system" signs for a command or task acting as nobody.
    """
    text = (text or "").strip()
    if not text:
        return existing
    author = actor.get_username() if getattr(actor, "pk", None) else "system"
    stamp = timezone.localtime(at or timezone.now()).strftime("%Y-%m-%d %H:%M %Z")
    line = f"[{stamp} · {author}] {text}"
    return f"{existing.rstrip()}\n{line}" if existing.strip() else line


def delete_unless_referenced(instance: models.Model, *, name: str, instead: str) -> None:
    """
    Delete ``instance``, or refuse with 409 when other records still refer to it (a protected
    foreign key): ``Cannot delete LEAD-…: communications refer to it. Mark the lead lost instead.``
    """
    try:
        # The savepoint keeps the caller's transaction usable after a refused delete.
        with transaction.atomic():
            instance.delete()
    except ProtectedError as exc:
        raise deletion_refused(exc, name=name, instead=instead) from None


def pk_in(model: type[models.Model], ids: Iterable, connection) -> tuple[str, list]:
    """
    ``WHERE`` SQL for "the key is one of ``ids``", with ONE parameter however many there are
    (an array on PostgreSQL, a JSON array on SQLite): a thousand ids bound as a thousand
    parameters cost more to send and parse than the statement costs to run.
    """
    pk = model._meta.pk
    column = f"{connection.ops.quote_name(model._meta.db_table)}.{connection.ops.quote_name(pk.column)}"
    values = [pk.get_db_prep_value(pk.to_python(value), connection) for value in ids]
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [values]
    return f"{column} IN (SELECT value FROM json_each(%s))", [json.dumps(values)]


def lock_rows(model: type[models.Model], ids: Iterable) -> list:
    """Lock the rows ``ids`` of ``model`` (``FOR NO KEY UPDATE``, in key order); answer the ids found."""
    ids = list(ids)
    if not ids:
        return []
    connection = connections[router.db_for_write(model)]
    where, params = pk_in(model, ids, connection)
    pk_column = connection.ops.quote_name(model._meta.pk.column)
    lock = " FOR NO KEY UPDATE" if connection.features.has_select_for_no_key_update else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {pk_column} FROM {connection.ops.quote_name(model._meta.db_table)} "
            f"WHERE {where} ORDER BY {pk_column}{lock}",
            params,
        )
        return [model._meta.pk.to_python(row[0]) for row in cursor.fetchall()]


def relink(
    model: type[models.Model], field: str, *, from_ids: Iterable, to_id, record_type: str, actor, timeline_field: str
) -> dict[str, list[str]]:
    """
    Point ``field`` (a foreign key) of every ``model`` row that refers to one of ``from_ids`` at
    ``to_id``, one UPDATE per id (a merge moves a thousand communications at once), with one
    history entry per row moved, shown on the timeline of the customer in ``timeline_field``.
    Answer the rows moved by the id they referred to: ``{from_id: [row ids]}``, what
    ``relink_back`` takes to move them back. The caller holds the locks (of the rows or of
    the records they refer to).
    """
    meta = model._meta
    link, timeline, updated = meta.get_field(field), meta.get_field(timeline_field), meta.get_field("updated_at")
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    now = timezone.now()
    moves: dict[str, list[str]] = {}
    rows = []
    with connection.cursor() as cursor:
        for from_id in from_ids:
            cursor.execute(
                f"UPDATE {quote(meta.db_table)} SET {quote(link.column)} = %s, {quote(updated.column)} = %s "
                f"WHERE {quote(link.column)} = %s RETURNING {quote(meta.pk.column)}, {quote(timeline.column)}",
                [
                    link.get_db_prep_value(to_id, connection),
                    updated.get_db_prep_value(now, connection),
                    link.get_db_prep_value(from_id, connection),
                ],
            )
            for pk, customer_id in cursor.fetchall():
                pk = meta.pk.to_python(pk)
                rows.append((pk, from_id, to_id, timeline.to_python(customer_id)))
                moves.setdefault(str(from_id), []).append(str(pk))
    _note_relinked(rows, attname=link.attname, record_type=record_type, actor=actor, at=now)
    return moves


def relink_back(
    model: type[models.Model],
    field: str,
    *,
    moves: Mapping[str, Sequence[str]],
    current_id,
    record_type: str,
    actor,
    timeline_field: str,
) -> None:
    """
    Undo ``relink``: the rows ``moves`` lists go back to the id they referred to. Refused
    (``Conflict`` naming the row, nothing changed) when one was deleted since, or now refers
    to something other than ``current_id``. The rows are locked first, in key order.
    """
    back = {pk: original for original, pks in moves.items() for pk in pks}
    if not back:
        return
    meta = model._meta
    link, timeline, updated = meta.get_field(field), meta.get_field(timeline_field), meta.get_field("updated_at")
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    lock_rows(model, back)
    where, params = pk_in(model, back, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote(meta.pk.column)}, {quote(link.column)}, {quote(timeline.column)} "
            f"FROM {quote(meta.db_table)} WHERE {where}",
            params,
        )
        current = {
            str(meta.pk.to_python(pk)): (link.to_python(value), timeline.to_python(customer_id))
            for pk, value, customer_id in cursor.fetchall()
        }
    name = meta.verbose_name
    for pk in sorted(back):
        if pk not in current:
            raise Conflict(f"The {name} {pk} moved by this merge has since been deleted; the merge cannot be undone.")
        if str(current[pk][0]) != str(current_id):
            raise Conflict(
                f"The {name} {pk} moved by this merge has since been linked elsewhere "
                f"({field} {current[pk][0]}); the merge cannot be undone."
            )
    now = timezone.now()
    with connection.cursor() as cursor:
        for original, pks in moves.items():
            where, params = pk_in(model, pks, connection)
            cursor.execute(
                f"UPDATE {quote(meta.db_table)} SET {quote(link.column)} = %s, {quote(updated.column)} = %s "
                f"WHERE {where}",
                [link.get_db_prep_value(original, connection), updated.get_db_prep_value(now, connection), *params],
            )
    moved_timeline = timeline.attname == link.attname
    _note_relinked(
        [
            (pk, current_id, original, original if moved_timeline else current[pk][1])
            for pk, original in sorted(back.items())
        ],
        attname=link.attname,
        record_type=record_type,
        actor=actor,
        at=now,
    )


def _note_relinked(rows, *, attname: str, record_type: str, actor, at) -> None:
    """One history entry per row relinked, ``{attname: [old, new]}``; rows: (pk, old, new, timeline customer)."""
    history.record_changes(
        history.entry(
            record_type=record_type,
            record_id=pk,
            action=HistoryAction.UPDATED,
            actor=actor,
            changes={attname: [str(old), str(new)]},
            customer_id=timeline,
            at=at,
        )
        for pk, old, new, timeline in rows
    )
