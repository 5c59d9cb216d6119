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

from crm_project.core.exceptions import deletion_refused
from crm_project.core.history import snapshot
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
