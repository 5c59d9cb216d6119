"""
Receivers that keep ``Segment.customer_count`` true when membership changes through the ORM:
``segment.customers.add/remove/set/clear``, ``customer.segments.add/remove/set/clear``,
``SegmentMembership`` rows saved or deleted (admin inlines, the shell), a queryset delete of
rows, and the rows that cascade with a deleted customer or segment.

Each receiver is thin: before rows change it takes the segments' row locks (the order every
service follows: segment rows, in id order, then membership rows), after they changed it
calls ``services.segment_recount``, which counts the rows under that lock. Without the locks
first, a customer deleted while a bulk assign adds it again deadlocks: each would wait for a
row the other holds. A deletion of many rows locks and recounts each segment once.

The paths that send no signals (``bulk_create``, raw SQL, ``QuerySet.update``) call the
services themselves; the services' own bulk statements are such paths. ``manage.py
recount_segments`` repairs anything else.
"""

from __future__ import annotations

import contextlib

from django.db import transaction
from django.db.models import QuerySet
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save

from customers.models import Customer

from . import services
from .models import Segment, SegmentMembership

# --- rows saved -------------------------------------------------------------------------------


def _membership_pre_save(sender, instance: SegmentMembership, using, **kwargs) -> None:
    segment_ids = {instance.segment_id}
    if not instance._state.adding:
        # A row moved to another segment changes the count of the one it leaves too.
        previous = SegmentMembership.objects.filter(pk=instance.pk).values_list("segment_id", flat=True).first()
        if previous is not None:
            segment_ids.add(previous)
    instance._segments_to_recount = segment_ids
    if transaction.get_connection(using).in_atomic_block:
        # Outside a transaction the row commits on its own: there is no lock order to keep.
        services.segments_lock(segment_ids=segment_ids)


def _membership_post_save(sender, instance: SegmentMembership, **kwargs) -> None:
    for segment_id in sorted(getattr(instance, "_segments_to_recount", {instance.segment_id})):
        services.segment_recount(segment_id=segment_id)


# --- rows deleted -----------------------------------------------------------------------------


class _Deletion:
    """The segments one deletion (one ``Collector.delete()``) has locked and recounted so far."""

    def __init__(self) -> None:
        self.locked: set = set()
        self.locked_up_front = False
        self.recounted: set = set()
        self.rows_gone = False


def _deletion(origin, *, starting: bool) -> _Deletion:
    """
    The bookkeeping of the deletion that ``origin`` (the queryset, customer, segment or row
    whose ``delete()`` was called) started. Django sends every ``pre_delete`` of a deletion
    before deleting, and deletes all of a model's rows before the first ``post_delete``, so
    one lock and one recount per segment serve a deletion of any number of rows. A
    ``pre_delete`` after rows are gone is the same origin object starting a new deletion.
    """
    deletion = getattr(origin, "_segments_deletion", None)
    if deletion is None or (starting and deletion.rows_gone):
        deletion = _Deletion()
        # No origin to keep it on (None): every row locks and recounts on its own.
        with contextlib.suppress(AttributeError):
            origin._segments_deletion = deletion
    return deletion


def _segments_touched_by(origin, instance: SegmentMembership):
    """The segments whose rows the deletion ``origin`` started may delete: ids or a subquery."""
    if isinstance(origin, QuerySet):
        if origin.model is SegmentMembership:
            return origin.values("segment_id")
        if origin.model is Customer:
            return SegmentMembership.objects.filter(customer__in=origin.values("pk")).values("segment_id")
        if origin.model is Segment:
            return origin.values("pk")
    elif isinstance(origin, Customer):
        return SegmentMembership.objects.filter(customer_id=origin.pk).values("segment_id")
    return [instance.segment_id]


def _membership_pre_delete(sender, instance: SegmentMembership, origin=None, **kwargs) -> None:
    deletion = _deletion(origin, starting=True)
    if not deletion.locked_up_front:
        # Every segment the deletion may touch at once (in id order, one query), before its
        # first row goes: deletions spanning several segments queue instead of deadlocking.
        deletion.locked.update(services.segments_lock(segment_ids=_segments_touched_by(origin, instance)))
        deletion.locked_up_front = True
    if instance.segment_id not in deletion.locked:
        deletion.locked.update(services.segments_lock(segment_ids=[instance.segment_id]))


def _membership_post_delete(sender, instance: SegmentMembership, origin=None, **kwargs) -> None:
    deletion = _deletion(origin, starting=False)
    deletion.rows_gone = True
    if instance.segment_id not in deletion.recounted:
        services.segment_recount(segment_id=instance.segment_id)
        deletion.recounted.add(instance.segment_id)


# --- rows added by a related manager ----------------------------------------------------------


def _membership_m2m_changed(sender, instance, action: str, reverse: bool, pk_set, **kwargs) -> None:
    # ``add()`` inserts with bulk_create, which sends no post_save; remove() and clear()
    # delete through a queryset, which the delete receivers above see row by row.
    if action not in ("pre_add", "post_add") or not pk_set:
        return
    # customer.segments.add(...) is the reverse side: pk_set then holds segment ids.
    segment_ids = set(pk_set) if reverse else {instance.pk}
    if action == "pre_add":
        services.segments_lock(segment_ids=segment_ids)
    else:
        for segment_id in sorted(segment_ids):
            services.segment_recount(segment_id=segment_id)


def connect() -> None:
    """Connect the receivers; called once from SegmentsConfig.ready()."""
    pre_save.connect(_membership_pre_save, sender=SegmentMembership, dispatch_uid="segments.membership_pre_save")
    post_save.connect(_membership_post_save, sender=SegmentMembership, dispatch_uid="segments.membership_post_save")
    pre_delete.connect(_membership_pre_delete, sender=SegmentMembership, dispatch_uid="segments.membership_pre_delete")
    post_delete.connect(
        _membership_post_delete, sender=SegmentMembership, dispatch_uid="segments.membership_post_delete"
    )
    m2m_changed.connect(
        _membership_m2m_changed, sender=SegmentMembership, dispatch_uid="segments.membership_m2m_changed"
    )
