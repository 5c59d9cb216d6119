"""
Small write helpers every domain service uses: row locks, applying validated changes, keeping
a derived field true, dated notes, deletes refused while other records refer to the row, and
inserting many new rows at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeVar

from django.db import connections, models, router, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from crm_project.core import history
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


def bulk_insert(instances: Sequence[models.Model]) -> None:
    """
    Insert new, unsaved instances of one model as ``bulk_create`` does (no ``save()``, no
    signals, their related objects already saved), read back as saved. On PostgreSQL through
    ``COPY``: no INSERT of thousands of parameters to compile, and the server writes rows while
    this process still prepares the next ones (an import's 50,000 leads, a quarter faster).
    """
    if not instances:
        return
    model = type(instances[0])
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(instances)
        return
    meta = model._meta
    fields = [field for field in meta.concrete_fields if not field.generated]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    sql = f"COPY {connection.ops.quote_name(meta.db_table)} ({columns}) FROM STDIN"
    # Django's cursor for its transaction and its error translation (an IntegrityError from a
    # unique index, as from an INSERT); psycopg's own for the COPY.
    with connection.cursor() as cursor, connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
        for instance in instances:
            if instance.pk is None:
                instance.pk = meta.pk.get_pk_value_on_save(instance)
            # Each value as an INSERT would send it: defaults set on save first (pre_save).
            copy.write_row([field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields])
    for instance in instances:
        instance._state.adding = False
        instance._state.db = connection.alias


def relink(
    model: type[models.Model], field: str, *, from_ids: Iterable, to_id, record_type: str, actor, timeline_field: str
) -> dict[str, list[str]]:
    """
    Point ``field`` (a foreign key) of every ``model`` row that refers to one of ``from_ids`` at
    ``to_id``, in one UPDATE (a merge moves a thousand communications at once), with one
    history entry per row moved, shown on the timeline of the customer in ``timeline_field``.
    Answer the rows moved by the id they referred to: ``{from_id: [row ids]}``, what
    ``relink_back`` takes to move them back. The caller holds the locks (of the rows or of
    the records they refer to).
    """
    attname = model._meta.get_field(field).attname
    manager = model._default_manager
    rows = list(manager.filter(**{f"{attname}__in": list(from_ids)}).order_by("pk").values_list("pk", attname))
    if not rows:
        return {}
    ids = [pk for pk, _ in rows]
    now = timezone.now()
    manager.filter(pk__in=ids).update(**{attname: to_id, "updated_at": now})
    _note_relinked(
        model,
        rows,
        to_id=to_id,
        attname=attname,
        record_type=record_type,
        actor=actor,
        timeline_field=timeline_field,
        at=now,
    )
    moves: dict[str, list[str]] = {}
    for pk, old in rows:
        moves.setdefault(str(old), []).append(str(pk))
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
    attname = model._meta.get_field(field).attname
    manager = model._default_manager
    ids = sorted(pk for pks in moves.values() for pk in pks)
    if not ids:
        return
    current = {
        str(pk): value
        for pk, value in manager.select_for_update(no_key=True)
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", attname)
    }
    name = model._meta.verbose_name
    for pk in ids:
        if pk not in current:
            raise Conflict(f"The {name} {pk} moved by this merge has since been deleted; the merge cannot be undone.")
        if str(current[pk]) != str(current_id):
            raise Conflict(
                f"The {name} {pk} moved by this merge has since been linked elsewhere "
                f"({field} {current[pk]}); the merge cannot be undone."
            )
    now = timezone.now()
    for original, pks in moves.items():
        manager.filter(pk__in=list(pks)).update(**{attname: original, "updated_at": now})
    rows = [(pk, current_id) for pk in ids]
    back = {pk: original for original, pks in moves.items() for pk in pks}
    _note_relinked(
        model,
        rows,
        to_id=None,
        attname=attname,
        record_type=record_type,
        actor=actor,
        timeline_field=timeline_field,
        at=now,
        to_of=back,
    )


def _note_relinked(model, rows, *, to_id, attname, record_type, actor, timeline_field, at, to_of=None) -> None:
    """One history entry per row relinked: ``{attname: [old, new]}``."""
    timeline = {
        str(pk): value
        for pk, value in model._default_manager.filter(pk__in=[pk for pk, _ in rows]).values_list("pk", timeline_field)
    }
    history.record_changes(
        history.entry(
            record_type=record_type,
            record_id=pk,
            action=HistoryAction.UPDATED,
            actor=actor,
            changes={attname: [str(old), str(to_of[str(pk)] if to_of else to_id)]},
            customer_id=timeline.get(str(pk)),
            at=at,
        )
        for pk, old in rows
    )
