"""
Merging duplicate customers and leads, and undoing a merge. Invariants guarded here:

- only sales managers merge, undo, or read merges (403);
- a merge is one transaction: the survivor and the duplicates are locked (``FOR UPDATE``, in
  id order, after the opportunities, communications and leads that refer to them: the lock
  order of the communications domain), so two merges touching one record queue, and the
  second finds it gone: 409, never a deadlock;
- every dependent record moves to the survivor, each through its own domain's service:
  opportunities, communications, converted leads, segment memberships (nobody in a segment
  twice, counts recounted), the customer timeline's history entries; the duplicates are then
  deleted (a protected reference left behind refuses the delete: 409) and their ids redirect
  to the survivor (``core/redirects.py``: a ``GET`` answers 404 naming it);
- the survivor takes the chosen fields through its domain's update service (its rules hold);
  field names must be mergeable and each source one of the merged records (400 naming it);
- duplicates: a non-empty list of distinct ids, not the survivor, of existing records (400);
  one already merged away is a 409 naming its survivor; a converted lead is never merged (409);
- history on both sides (``merged``, source ``merge``), and ``customer.merged`` for customers;
- an undo, within ``MERGE_UNDO_DAYS``, once: the duplicates come back with their ids and
  values, each moved row moves back, the survivor's taken fields get their old values.
  Refused (409 naming it, nothing changed) when something moved was deleted or relinked
  since, a taken field changed since, or a segment was deleted.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from communications.models import Communication
from communications.services import communications_relink, communications_relink_back
from crm_project.core import history
from crm_project.core.api.serializers import api_field_names
from crm_project.core.changes import note_change
from crm_project.core.exceptions import Conflict
from crm_project.core.models import HistoryAction
from crm_project.core.redirects import merged_into, redirects_add, redirects_remove
from crm_project.core.roles import is_manager
from crm_project.core.services import lock_rows
from crm_project.core.webhooks.events import emit
from customers.api.serializers import webhook_data as customer_webhook_data
from customers.models import Customer
from customers.services import EDITABLE_FIELDS as CUSTOMER_FIELDS
from customers.services import customer_update
from leads.models import Lead, LeadStatus
from leads.services import (
    CREATE_FIELDS as LEAD_FIELDS,
)
from leads.services import (
    lead_update,
    leads_relink_converted_customer,
    leads_relink_converted_customer_back,
)
from opportunities.models import Opportunity
from opportunities.services import opportunities_relink, opportunities_relink_back
from segments.services import segment_memberships_merge, segment_memberships_unmerge

from .models import Merge, MergeKind

# Duplicates per merge: a person compares this many records side by side, not more.
MAX_DUPLICATES = 10


@dataclass(frozen=True)
class MergeSpec:
    """What differs between a merge of customers and one of leads."""

    kind: str
    model: type[models.Model]
    # Model field names the survivor may take from a duplicate.
    fields: tuple[str, ...]
    label: Callable[[models.Model], str]
    update: Callable[..., models.Model]

    @property
    def record_type(self) -> str:
        return self.kind

    def api_fields(self) -> dict[str, str]:
        """The API's name of each mergeable field → the model's."""
        return dict(zip(api_field_names(self.model, self.fields), self.fields, strict=True))


def _update_customer(*, actor, record, data):
    return customer_update(actor=actor, customer=record, data=data)


def _update_lead(*, actor, record, data):
    return lead_update(actor=actor, lead=record, data=data)


SPECS = {
    MergeKind.CUSTOMER: MergeSpec(
        kind=MergeKind.CUSTOMER,
        model=Customer,
        fields=CUSTOMER_FIELDS,
        label=lambda customer: customer.customer_code,
        update=_update_customer,
    ),
    MergeKind.LEAD: MergeSpec(
        kind=MergeKind.LEAD, model=Lead, fields=LEAD_FIELDS, label=lambda lead: lead.lead_number, update=_update_lead
    ),
}


def mergeable_fields(kind: str) -> list[str]:
    """The API's names of the fields a survivor of ``kind`` may take from a duplicate."""
    return list(SPECS[kind].api_fields())


def _require_manager(actor, doing: str) -> None:
    if not is_manager(actor):
        raise PermissionDenied(f"Only sales managers can {doing}.")


# --- checks ------------------------------------------------------------------------------------


def _as_uuid(value, *, field: str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        raise ValidationError({field: [f"{value!r} is not a valid id."]}) from None


def _checked_duplicate_ids(survivor_id: uuid.UUID, duplicate_ids) -> list[uuid.UUID]:
    if not isinstance(duplicate_ids, (list, tuple)) or not duplicate_ids:
        raise ValidationError({"duplicate_ids": ["Name at least one record to merge into this one."]})
    if len(duplicate_ids) > MAX_DUPLICATES:
        raise ValidationError({"duplicate_ids": [f"At most {MAX_DUPLICATES} records per merge."]})
    ids = [_as_uuid(value, field="duplicate_ids") for value in duplicate_ids]
    if len(set(ids)) != len(ids):
        raise ValidationError({"duplicate_ids": ["An id is named twice."]})
    if survivor_id in ids:
        raise ValidationError({"duplicate_ids": ["A record cannot be merged into itself."]})
    return ids


def _checked_fields(spec: MergeSpec, fields, survivor_id, duplicate_ids) -> dict[str, uuid.UUID]:
    """``{"api field": source id}``, each field mergeable, each source one of the merged records."""
    if fields is None:
        return {}
    if not isinstance(fields, Mapping):
        raise ValidationError({"fields": ['Must be an object: {"field": "<id of the record to take it from>"}.']})
    names = spec.api_fields()
    merged = {survivor_id, *duplicate_ids}
    taken = {}
    for name, source in fields.items():
        if name not in names:
            raise ValidationError({"fields": [f"{name}: not a field that can be merged."]})
        try:
            source_id = uuid.UUID(str(source))
        except (TypeError, ValueError):
            raise ValidationError({"fields": [f"{name}: {source!r} is not a valid id."]}) from None
        if source_id not in merged:
            raise ValidationError({"fields": [f"{name}: take it from the survivor or one of the duplicates."]})
        taken[name] = source_id
    return taken


def _refuse_missing(spec: MergeSpec, wanted: Sequence[uuid.UUID], found, *, locked: bool) -> None:
    """A record merged away is a 409 naming its survivor; one that never was, a 400 (404 for the survivor)."""
    for pk in wanted:
        if pk in found:
            continue
        survivor = merged_into(record_type=spec.record_type, record_id=pk)
        if survivor is not None:
            raise Conflict(f"The {spec.kind} {pk} has {'just ' if locked else ''}been merged into {survivor}.")
        if locked:
            raise Conflict(f"The {spec.kind} {pk} has just been deleted.")
        raise ValidationError({"duplicate_ids": [f"No {spec.kind} has the id {pk}."]})


def _refuse_unmergeable(spec: MergeSpec, records) -> None:
    if spec.kind == MergeKind.LEAD:
        for lead in records:
            if lead.status == LeadStatus.CONVERTED:
                raise Conflict(f"{lead.lead_number} is converted; only open leads can be merged.")


# --- locks ------------------------------------------------------------------------------------


def _lock(model: type[models.Model], **where) -> list:
    """Lock these rows in key order (every path here takes its locks in one order)."""
    return list(
        model._default_manager.select_for_update(no_key=True)
        .filter(**where)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _lock_records(spec: MergeSpec, ids: Sequence[uuid.UUID], survivor_id) -> dict[uuid.UUID, models.Model]:
    """
    Lock what the merge moves, then the records themselves. The order is the communications
    domain's (opportunities, communications, leads, customers), so a communication logged
    meanwhile queues behind the merge or the merge behind it, never both ways.
    """
    if spec.kind == MergeKind.CUSTOMER:
        _lock(Opportunity, customer_id__in=ids)
        _lock(Communication, customer_id__in=ids)
        _lock(Lead, converted_customer_id__in=ids)
    else:
        _lock(Opportunity, lead_id__in=ids)
        _lock(Communication, lead_id__in=ids)
    records = {}
    for pk in sorted(ids):
        # A duplicate FOR UPDATE, as its delete needs (a communication holding its key waits, or
        # makes us wait); the survivor only FOR NO KEY UPDATE: it keeps its key, and records
        # about it may still be written meanwhile.
        locking = spec.model._default_manager.select_for_update(no_key=pk == survivor_id)
        record = locking.filter(pk=pk).first()
        if record is not None:
            records[pk] = record
    return records


# --- merge -------------------------------------------------------------------------------------


def _taken_data(spec: MergeSpec, taken: Mapping[str, uuid.UUID], records, survivor_id) -> dict[str, Any]:
    """The values the survivor takes, under model field names (related objects for relations)."""
    names = spec.api_fields()
    return {
        names[name]: getattr(records[source_id], names[name])
        for name, source_id in taken.items()
        if source_id != survivor_id
    }


def _serialized(records) -> list[dict]:
    return serializers.serialize("python", records)


@transaction.atomic
def merge_records(*, actor, kind: str, survivor_id, duplicate_ids, fields=None) -> Merge:
    """
    Merge the records ``duplicate_ids`` into ``survivor_id`` (see the module's invariants);
    answer the merge record. ``fields`` maps the API's field names to the record to take each
    value from.
    """
    _require_manager(actor, "merge records")
    spec = SPECS[kind]
    survivor_id = _as_uuid(survivor_id, field="id")
    duplicate_ids = _checked_duplicate_ids(survivor_id, duplicate_ids)
    taken = _checked_fields(spec, fields, survivor_id, duplicate_ids)
    manager = spec.model._default_manager
    if not manager.filter(pk=survivor_id).exists():
        survivor = merged_into(record_type=spec.record_type, record_id=survivor_id)
        raise Conflict(f"This {spec.kind} was merged into {survivor}.") if survivor else spec.model.DoesNotExist()
    _refuse_missing(
        spec, duplicate_ids, set(manager.filter(pk__in=duplicate_ids).values_list("pk", flat=True)), locked=False
    )

    with history.change_context(source="merge"):
        all_ids = sorted([survivor_id, *duplicate_ids])
        records = _lock_records(spec, all_ids, survivor_id)
        _refuse_missing(spec, all_ids, records, locked=True)
        duplicates = [records[pk] for pk in duplicate_ids]
        _refuse_unmergeable(spec, [records[survivor_id], *duplicates])

        merge = Merge(
            kind=spec.kind,
            survivor_id=survivor_id,
            duplicate_ids=[str(pk) for pk in duplicate_ids],
            fields={name: str(source) for name, source in taken.items()},
            duplicates=_serialized(duplicates),
            merged_by=actor if getattr(actor, "pk", None) else None,
        )
        merge.moved = _move_children(spec, actor, survivor_id, duplicate_ids)
        for duplicate in duplicates:
            note_change(
                record_type=spec.record_type,
                record=duplicate,
                action=HistoryAction.MERGED,
                actor=actor,
                changes={"merged_into": [None, str(survivor_id)]},
                customer_id=duplicate.pk if spec.kind == MergeKind.CUSTOMER else None,
            )
        try:
            with transaction.atomic():  # A savepoint: a refused delete leaves the transaction usable.
                manager.filter(pk__in=duplicate_ids).delete()
        except ProtectedError as exc:
            names = sorted({str(obj._meta.verbose_name_plural) for obj in exc.protected_objects})
            raise Conflict(f"Records were added to a duplicate during the merge ({', '.join(names)}); retry.") from None
        redirects_add(
            record_type=spec.record_type, record_ids=duplicate_ids, merged_into=survivor_id, merge_id=merge.id
        )

        survivor = records[survivor_id]
        names = [spec.api_fields()[name] for name in taken]
        merge.survivor_before = history.snapshot(survivor, names)
        data = _taken_data(spec, taken, records, survivor_id)
        if data:
            survivor = spec.update(actor=actor, record=survivor, data=data)
        merge.survivor_after = history.snapshot(survivor, names)
        merge.save()
        note_change(
            record_type=spec.record_type,
            record=survivor,
            action=HistoryAction.MERGED,
            actor=actor,
            changes={"merged_ids": [None, merge.duplicate_ids]},
            customer_id=survivor.pk if spec.kind == MergeKind.CUSTOMER else survivor.converted_customer_id,
        )
        if spec.kind == MergeKind.CUSTOMER:
            _emit_customer_merged(merge, survivor)
    return merge


def _move_children(spec: MergeSpec, actor, survivor_id, duplicate_ids) -> dict:
    if spec.kind == MergeKind.LEAD:
        return {
            "opportunities": opportunities_relink(actor=actor, field="lead", from_ids=duplicate_ids, to_id=survivor_id),
            "communications": communications_relink(
                actor=actor, field="lead", from_ids=duplicate_ids, to_id=survivor_id
            ),
        }
    # The timeline first: the entries the moves below write already name the survivor.
    timeline = history.move_timeline(from_customer_ids=duplicate_ids, to_customer_id=survivor_id)
    return {
        "history": timeline,
        "opportunities": opportunities_relink(actor=actor, field="customer", from_ids=duplicate_ids, to_id=survivor_id),
        "communications": communications_relink(
            actor=actor, field="customer", from_ids=duplicate_ids, to_id=survivor_id
        ),
        "converted_leads": leads_relink_converted_customer(actor=actor, from_ids=duplicate_ids, to_id=survivor_id),
        "memberships": segment_memberships_merge(actor=actor, survivor_id=survivor_id, duplicate_ids=duplicate_ids),
    }


def _emit_customer_merged(merge: Merge, survivor: Customer) -> None:
    emit(
        "customer.merged",
        record_type="customer",
        record=survivor,
        data={**customer_webhook_data(survivor), "merged_ids": merge.duplicate_ids, "merge_id": str(merge.id)},
        previous=merge.survivor_before,
    )


# --- undo --------------------------------------------------------------------------------------


def undo_deadline(merge: Merge) -> dt.datetime:
    return merge.merged_at + dt.timedelta(days=settings.MERGE_UNDO_DAYS)


def _model_value(model: type[models.Model], name: str, value):
    """A value as ``history.snapshot`` wrote it, back as the model field takes it."""
    field = model._meta.get_field(name)
    if field.is_relation:
        return None if value is None else get_user_model()._default_manager.get(pk=value)
    return field.to_python(value)


@transaction.atomic
def merge_undo(*, actor, merge: Merge) -> Merge:
    """Undo ``merge`` (see the module's invariants); answer it, marked undone."""
    _require_manager(actor, "undo merges")
    # The merge row first: two undos of one merge queue, and the second is refused.
    merge = Merge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        raise Conflict(f"This merge was undone already, at {merge.undone_at.isoformat()}.")
    if timezone.now() > undo_deadline(merge):
        raise Conflict(f"A merge can be undone for {settings.MERGE_UNDO_DAYS} days; this one can no longer be.")
    spec = SPECS[merge.kind]
    survivor_id = merge.survivor_id
    moved = merge.moved
    with history.change_context(source="merge"):
        # The lock order of a merge: what moved, then the records.
        for name, model in (
            ("opportunities", Opportunity),
            ("communications", Communication),
            ("converted_leads", Lead),
        ):
            lock_rows(model, [pk for pks in moved.get(name, {}).values() for pk in pks])
        survivor = spec.model._default_manager.select_for_update(no_key=True).filter(pk=survivor_id).first()
        if survivor is None:
            elsewhere = merged_into(record_type=spec.record_type, record_id=survivor_id)
            raise Conflict(
                f"The surviving {spec.kind} was merged into {elsewhere} since; undo that merge first."
                if elsewhere
                else f"The surviving {spec.kind} was deleted since; the merge cannot be undone."
            )
        survivor = _restore_survivor_fields(spec, actor, merge, survivor)
        duplicates = _restore_duplicates(spec, merge)
        _move_children_back(spec, actor, merge)
        redirects_remove(merge_id=merge.pk)
        for duplicate in duplicates:
            note_change(
                record_type=spec.record_type,
                record=duplicate,
                action=HistoryAction.MERGED,
                actor=actor,
                changes={"merged_into": [str(survivor_id), None]},
                customer_id=duplicate.pk if spec.kind == MergeKind.CUSTOMER else None,
            )
        note_change(
            record_type=spec.record_type,
            record=survivor,
            action=HistoryAction.MERGED,
            actor=actor,
            changes={"merged_ids": [merge.duplicate_ids, None]},
            customer_id=survivor.pk if spec.kind == MergeKind.CUSTOMER else survivor.converted_customer_id,
        )
        merge.undone_at = timezone.now()
        merge.undone_by = actor if getattr(actor, "pk", None) else None
        merge.save(update_fields=["undone_at", "undone_by"])
    return merge


def _restore_survivor_fields(spec: MergeSpec, actor, merge: Merge, survivor):
    """The taken fields get their values from before the merge; 409 naming one changed since."""
    api_names = spec.api_fields()
    now = history.snapshot(survivor, [api_names[name] for name in merge.fields])
    for name, value in merge.survivor_after.items():
        if now.get(name) != value:
            raise Conflict(
                f"The {spec.kind}'s {name} has changed since the merge; the merge cannot be undone "
                "without losing that change."
            )
    data = {
        api_names[name]: _model_value(spec.model, api_names[name], value)
        for name, value in merge.survivor_before.items()
        if merge.survivor_after.get(name) != value
    }
    return spec.update(actor=actor, record=survivor, data=data) if data else survivor


def _restore_duplicates(spec: MergeSpec, merge: Merge) -> list[models.Model]:
    restored = [item.object for item in serializers.deserialize("python", merge.duplicates)]
    if spec.kind == MergeKind.LEAD:
        for lead in restored:
            taken = Lead.objects.filter(email__iexact=lead.email).exclude(pk=lead.pk).first()
            if taken is not None:
                raise Conflict(
                    f"{taken.lead_number} now has the email {lead.email} of {lead.lead_number}; "
                    "the merge cannot be undone."
                )
    try:
        with transaction.atomic():
            spec.model._default_manager.bulk_create(restored)
    except IntegrityError:
        raise Conflict(f"A merged {spec.kind} cannot come back: its id or number is taken.") from None
    return restored


def _move_children_back(spec: MergeSpec, actor, merge: Merge) -> None:
    moved, survivor_id = merge.moved, merge.survivor_id
    field = "lead" if spec.kind == MergeKind.LEAD else "customer"
    opportunities_relink_back(actor=actor, field=field, moves=moved.get("opportunities", {}), current_id=survivor_id)
    communications_relink_back(actor=actor, field=field, moves=moved.get("communications", {}), current_id=survivor_id)
    if spec.kind == MergeKind.LEAD:
        return
    leads_relink_converted_customer_back(actor=actor, moves=moved.get("converted_leads", {}), current_id=survivor_id)
    segment_memberships_unmerge(actor=actor, survivor_id=survivor_id, memberships=moved.get("memberships", {}))
    history.move_timeline_back(moved.get("history", {}))
