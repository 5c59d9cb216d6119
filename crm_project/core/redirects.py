"""
Where a merged record went: its id maps to the survivor's (``MergeRedirect``). The merge
services write and remove the rows; the API's detail views answer a merged id with a 404
naming the survivor; a write that names a record merged away meanwhile follows it here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db import connections, models, router

from crm_project.core.models import MergeRedirect

# A survivor merged into another in turn: followed this many times at most.
MAX_HOPS = 10


def merged_into(*, record_type: str, record_id) -> uuid.UUID | None:
    """The record that ``record_id`` ended up in through one merge or more; ``None`` if never merged."""
    current, final = record_id, None
    for _ in range(MAX_HOPS):
        survivor = (
            MergeRedirect.objects.filter(record_type=record_type, record_id=current)
            .values_list("merged_into", flat=True)
            .first()
        )
        if survivor is None:
            break
        current = final = survivor
    return final


def redirects_add(*, record_type: str, record_ids: Iterable, merged_into: uuid.UUID, merge_id: uuid.UUID) -> None:
    MergeRedirect.objects.bulk_create(
        [
            MergeRedirect(record_type=record_type, record_id=pk, merged_into=merged_into, merge_id=merge_id)
            for pk in record_ids
        ]
    )


def redirects_remove(*, merge_id: uuid.UUID) -> None:
    MergeRedirect.objects.filter(merge_id=merge_id).delete()


def hold_key_following_merges(model: type[models.Model], *, record_type: str, pk) -> uuid.UUID | None:
    """
    Hold ``pk``'s row until this transaction ends, as a foreign key check would (``FOR KEY
    SHARE``: other writers of the row are not blocked, a merge or a delete of it waits), and
    answer its id; when it was merged away meanwhile, the survivor's (held in turn); ``None``
    when it is gone for good.

    A write about to refer to a customer or lead calls this first: a merge that took the row
    first makes it wait, then it refers to the survivor; a merge that comes second waits for
    it, then moves what it wrote. Nothing refers to a row merged away.
    """
    connection = connections[router.db_for_write(model)]
    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(model._meta.pk.column)
    lock = " FOR KEY SHARE" if connection.vendor == "postgresql" else ""
    current = pk
    for _ in range(MAX_HOPS):
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT 1 FROM {table} WHERE {column} = %s{lock}",
                [model._meta.pk.get_db_prep_value(current, connection)],
            )
            if cursor.fetchone() is not None:
                return current
        # A new statement, a new snapshot: it sees the redirect the merge committed with the delete.
        current = (
            MergeRedirect.objects.filter(record_type=record_type, record_id=current)
            .values_list("merged_into", flat=True)
            .first()
        )
        if current is None:
            return None
    return None
