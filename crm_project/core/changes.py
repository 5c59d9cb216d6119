"""
What a service does after it changed a record, in the change's own transaction: write the
record's history, and, when the change is one other systems subscribe to, its webhook event.
One call per change (``note_change``), or per batch in the bulk paths (``note_changes``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models

from crm_project.core import history
from crm_project.core.webhooks.events import emit, emit_many


def previous_values(changes: Mapping[str, Any] | None) -> dict[str, Any]:
    """The old values of ``{"field": [old, new]}``: what a webhook's ``previous`` holds."""
    return {name: pair[0] for name, pair in (changes or {}).items()}


def created(instance: models.Model, names: Iterable[str]) -> dict[str, list]:
    """A new record's values as changes from nothing, leaving out the empty ones."""
    return {
        name: [None, value]
        for name, value in history.snapshot(instance, names).items()
        if value not in (None, "", [], {})
    }


def note_change(
    *,
    record_type: str,
    record: models.Model,
    action: str,
    actor,
    changes: Mapping[str, Any] | None = None,
    customer_id=None,
    event: str | None = None,
) -> None:
    history.record_change(
        record_type=record_type,
        record_id=record.pk,
        action=action,
        actor=actor,
        changes=changes,
        customer_id=customer_id,
    )
    if event is not None:
        emit(event, record_type=record_type, record=record, previous=previous_values(changes))


def note_changes(
    *,
    record_type: str,
    records: list[models.Model],
    action: str,
    actor,
    changes_of=lambda record: {},
    customer_id_of=lambda record: None,
    event: str | None = None,
) -> None:
    """The bulk paths: one history entry per record, written at once; one event per record."""
    history.record_changes(
        history.entry(
            record_type=record_type,
            record_id=record.pk,
            action=action,
            actor=actor,
            changes=changes_of(record),
            customer_id=customer_id_of(record),
        )
        for record in records
    )
    if event is not None:
        emit_many(event, record_type=record_type, records=records, previous_of=lambda r: previous_values(changes_of(r)))
