"""
Writes of segments and their membership. The API, the admin (inline rows included), the
signal receivers, the demo data and ``manage.py recount_segments`` all come through here.
Invariants guarded here:

- only sales managers create, change or delete segments, or change who is in them (403);
- ``code`` is unique case-insensitively: a friendly 400 on ``code`` here; the
  ``segment_code_ci_unique`` index is the last line against races;
- ``criteria`` and ``benefits`` are JSON objects (400; check constraints behind), and the
  known criteria keys hold valid values (400 on ``criteria``; rules in ``criteria.py``);
- ``customer_count`` equals the number of membership rows, in the same transaction as every
  change: the bulk paths (raw SQL, which sends no signals) recount themselves, the ORM paths
  recount through the receivers in ``signals.py``, and ``segment_recount`` repairs anything
  else (``manage.py recount_segments``);
- locks are taken in one order by every path (services and receivers alike): the segment
  row before its membership rows, several segments in id order; concurrent membership
  changes queue on the segment row instead of deadlocking on each other's rows;
- bulk assign and remove run in one transaction with a constant number of queries whatever
  the number of ids; duplicates count once; unknown ids are a 400 naming them, with nothing
  changed; at most ``MAX_CUSTOMER_IDS`` ids per call;
- a merge of customers gives the duplicates' memberships to the survivor without double
  membership (``segment_memberships_merge``), recounted under the segments' locks, and its
  undo puts back exactly the rows it moved or dropped (same ids), or refuses (409);
- every write advances ``updated_at`` (the ETag), a recount that corrects the count too;
  update and delete check the client's ``If-Match`` under the row lock.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import NotSupportedError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from crm_project.core import history
from crm_project.core.changes import created
from crm_project.core.exceptions import Conflict
from crm_project.core.jobs.services import job_create
from crm_project.core.models import HistoryAction, Job
from crm_project.core.roles import is_manager
from crm_project.core.services import apply_changes, apply_tracked_changes, lock_for_update, pk_in
from crm_project.core.webhooks.events import emit
from customers.models import Customer

from .criteria import criteria_filter
from .models import CODE_TAKEN, Segment, SegmentMembership

RECORD_TYPE = "segment"
EDITABLE_FIELDS = ("name", "description", "code", "criteria", "is_active", "priority", "benefits", "auto_refresh")
# Ids per assign or remove call: a request body's worth, and a statement the database
# plans in milliseconds.
MAX_CUSTOMER_IDS = 10_000
# Unknown ids named in a 400 at most; the rest are counted.
UNKNOWN_IDS_SHOWN = 20


@dataclass(frozen=True)
class SegmentRecount:
    segment_id: uuid.UUID
    code: str
    old: int
    new: int

    @property
    def corrected(self) -> bool:
        return self.old != self.new


@dataclass(frozen=True)
class AssignResult:
    segment_id: uuid.UUID
    assigned: int
    already_assigned: int
    customer_count: int


@dataclass(frozen=True)
class RemoveResult:
    segment_id: uuid.UUID
    removed: int
    not_assigned: int
    customer_count: int


@dataclass(frozen=True)
class ApplyCriteriaResult(AssignResult):
    unrecognized_criteria: list[str]


# --- rules shared by several services -------------------------------------------------------


def _require_manager(actor, doing: str) -> None:
    if not is_manager(actor):
        raise PermissionDenied(f"Only sales managers can {doing}.")


def _locked(segment: Segment, *, if_match: str | None = None) -> Segment:
    try:
        return lock_for_update(segment, if_match=if_match)
    except Segment.DoesNotExist:
        raise Conflict("This segment has just been deleted.") from None


def validate_segment_values(data: Mapping[str, Any]) -> None:
    """The value rules of ``criteria`` and ``benefits`` (also used by the admin form)."""
    errors: dict[str, list[str]] = {}
    if "criteria" in data:
        try:
            criteria_filter(data["criteria"])
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if "benefits" in data and not isinstance(data["benefits"], Mapping):
        errors["benefits"] = ["Must be a JSON object."]
    if errors:
        raise ValidationError(errors)


def _check_code_free(segment: Segment) -> None:
    if Segment.objects.filter(code__iexact=segment.code).exclude(pk=segment.pk).exists():
        raise ValidationError({"code": [CODE_TAKEN]})


# --- membership SQL: a constant number of statements whatever the number of ids -----------

# Plain lower-case identifiers: valid unquoted on PostgreSQL and SQLite alike.
_MEMBERSHIP_TABLE = SegmentMembership._meta.db_table
_SEGMENT_COLUMN = SegmentMembership._meta.get_field("segment").column
_CUSTOMER_COLUMN = SegmentMembership._meta.get_field("customer").column
_ADDED_BY_COLUMN = SegmentMembership._meta.get_field("added_by").column
_ADDED_AT_COLUMN = SegmentMembership._meta.get_field("added_at").column
_CUSTOMER_TABLE = Customer._meta.db_table
_CUSTOMER_PK_COLUMN = Customer._meta.pk.column


def _db_segment_id(value: uuid.UUID) -> Any:
    return Segment._meta.pk.get_db_prep_value(value, connection)


def _db_customer_id(value: uuid.UUID) -> Any:
    return Customer._meta.pk.get_db_prep_value(value, connection)


def _distinct_ids(customer_ids: Iterable[uuid.UUID | str]) -> list[uuid.UUID]:
    """The ids as UUIDs, each once, in the order given."""
    distinct: dict[uuid.UUID, None] = {}
    try:
        for value in customer_ids:
            distinct[value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))] = None
    except ValueError:
        raise ValidationError({"customer_ids": ["Every customer id must be a UUID."]}) from None
    if len(distinct) > MAX_CUSTOMER_IDS:
        raise ValidationError({"customer_ids": [f"At most {MAX_CUSTOMER_IDS} customer ids per request."]})
    return list(distinct)


def _id_rows(ids: Sequence[uuid.UUID]) -> tuple[str, list[Any]]:
    """
    A one-column row source (``id``) holding ``ids``, passed as ONE parameter whatever its
    length: an array on PostgreSQL, a JSON array on SQLite.
    """
    if connection.vendor == "postgresql":
        return "SELECT unnest(%s::uuid[]) AS id", [list(ids)]
    if connection.vendor == "sqlite":
        return "SELECT value AS id FROM json_each(%s)", [json.dumps([_db_customer_id(i) for i in ids])]
    raise NotSupportedError(f"Segment membership SQL is written for PostgreSQL and SQLite, not {connection.vendor}.")


def _unknown_customer_ids(ids: Sequence[uuid.UUID]) -> list[str]:
    rows_sql, params = _id_rows(ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT wanted.id FROM ({rows_sql}) AS wanted WHERE NOT EXISTS ("
            f"SELECT 1 FROM {_CUSTOMER_TABLE} AS c WHERE c.{_CUSTOMER_PK_COLUMN} = wanted.id)",
            params,
        )
        return sorted(str(uuid.UUID(str(row[0]))) for row in cursor.fetchall())


def _refuse_unknown(ids: Sequence[uuid.UUID]) -> None:
    unknown = _unknown_customer_ids(ids) if ids else []
    if unknown:
        shown = ", ".join(unknown[:UNKNOWN_IDS_SHOWN])
        more = f" and {len(unknown) - UNKNOWN_IDS_SHOWN} more" if len(unknown) > UNKNOWN_IDS_SHOWN else ""
        raise ValidationError({"customer_ids": [f"Unknown customer ids: {shown}{more}."]})


def _insert_memberships(segment: Segment, actor, rows_sql: str, rows_params: list[Any]) -> list[uuid.UUID]:
    """
    Add the customers that ``rows_sql`` (one column, ``id``) yields and are not members
    yet, in one statement; return the customers added.
    """
    added_at = SegmentMembership._meta.get_field("added_at").get_db_prep_value(timezone.now(), connection)
    added_by = actor.pk if getattr(actor, "pk", None) else None
    with connection.cursor() as cursor:
        # "WHERE true" is SQLite's way to tell an INSERT ... SELECT from its ON CONFLICT clause.
        cursor.execute(
            f"INSERT INTO {_MEMBERSHIP_TABLE} ({_SEGMENT_COLUMN}, {_CUSTOMER_COLUMN}, {_ADDED_BY_COLUMN}, "
            f"{_ADDED_AT_COLUMN}) SELECT %s, source.id, %s, %s FROM ({rows_sql}) AS source WHERE true "
            f"ON CONFLICT ({_SEGMENT_COLUMN}, {_CUSTOMER_COLUMN}) DO NOTHING RETURNING {_CUSTOMER_COLUMN}",
            [_db_segment_id(segment.pk), added_by, added_at, *rows_params],
        )
        return [_as_uuid(value) for (value,) in cursor.fetchall()]


def _delete_memberships(segment: Segment, ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    rows_sql, params = _id_rows(ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {_MEMBERSHIP_TABLE} WHERE {_SEGMENT_COLUMN} = %s "
            f"AND {_CUSTOMER_COLUMN} IN ({rows_sql}) RETURNING {_CUSTOMER_COLUMN}",
            [_db_segment_id(segment.pk), *params],
        )
        return [_as_uuid(value) for (value,) in cursor.fetchall()]


def _as_uuid(value) -> uuid.UUID:
    # PostgreSQL answers a UUID; SQLite its 32 hex digits.
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _note_memberships(
    segment: Segment, actor, customer_ids: list[uuid.UUID], *, added: bool, count_before: int
) -> None:
    """
    One history entry on the segment for the change as a whole (the customers who joined or
    left) and one ``segment.membership_changed`` event: one row each, whatever the number.
    """
    if not customer_ids:
        return
    ids = sorted(str(pk) for pk in customer_ids)
    history.record_change(
        record_type=RECORD_TYPE,
        record_id=segment.pk,
        action=HistoryAction.MEMBERSHIP_ADDED if added else HistoryAction.MEMBERSHIP_REMOVED,
        actor=actor,
        changes={
            "customer_ids": [[], ids] if added else [ids, []],
            "customer_count": [count_before, segment.customer_count],
        },
    )
    previous = {"customer_count": count_before}
    emit("segment.membership_changed", record_type=RECORD_TYPE, record=segment, previous=previous)


def _matching_rows(queryset: QuerySet[Customer]) -> tuple[str, list[Any]]:
    # The primary key under its own name, ``id``, as the row sources above name it.
    sql, params = queryset.order_by().values("id").query.get_compiler(connection=connection).as_sql()
    return sql, list(params)


def _delete_all_memberships(segment: Segment) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_MEMBERSHIP_TABLE} WHERE {_SEGMENT_COLUMN} = %s", [_db_segment_id(segment.pk)])


# --- segments -------------------------------------------------------------------------------


@transaction.atomic
def segment_create(*, actor, data: Mapping[str, Any]) -> Segment:
    _require_manager(actor, "create segments")
    validate_segment_values(data)
    segment = Segment()
    apply_changes(segment, data, allowed=EDITABLE_FIELDS)
    _check_code_free(segment)
    segment.save()
    history.record_change(
        record_type=RECORD_TYPE,
        record_id=segment.pk,
        action=HistoryAction.CREATED,
        actor=actor,
        changes=created(segment, EDITABLE_FIELDS),
    )
    return segment


@transaction.atomic
def segment_update(*, actor, segment: Segment, data: Mapping[str, Any], if_match: str | None = None) -> Segment:
    _require_manager(actor, "change segments")
    validate_segment_values(data)
    segment = _locked(segment, if_match=if_match)
    changes = apply_tracked_changes(segment, data, allowed=EDITABLE_FIELDS)
    if "code" in changes:
        _check_code_free(segment)
    if changes:
        segment.touch()
        # Only what changed: customer_count belongs to the membership paths.
        segment.save(update_fields=[name for name in EDITABLE_FIELDS if name in changes] + ["updated_at"])
        history.record_change(
            record_type=RECORD_TYPE, record_id=segment.pk, action=HistoryAction.UPDATED, actor=actor, changes=changes
        )
    return segment


@transaction.atomic
def segment_delete(*, actor, segment: Segment, if_match: str | None = None) -> None:
    _require_manager(actor, "delete segments")
    segment = _locked(segment, if_match=if_match)
    history.record_change(record_type=RECORD_TYPE, record_id=segment.pk, action=HistoryAction.DELETED, actor=actor)
    # The membership rows go in one statement: through the ORM each row would be loaded and
    # would send its own signals, for a count about to disappear with the segment.
    _delete_all_memberships(segment)
    segment.delete()


# --- the count ------------------------------------------------------------------------------


def segments_lock(*, segment_ids: Iterable[uuid.UUID] | QuerySet) -> list[uuid.UUID]:
    """
    Take the row locks of these segments (ids, or a subquery of ids) before their membership
    rows change, and return the ids locked; the receivers call this for the ORM paths. Must
    run inside the transaction that makes the change.
    """
    # In id order: two callers locking overlapping sets queue instead of deadlocking.
    locking = Segment.objects.select_for_update(no_key=True).filter(pk__in=segment_ids).order_by("pk")
    return list(locking.values_list("pk", flat=True))


def _store_true_count(segment: Segment) -> SegmentRecount:
    """Count the membership rows and store the count; the caller holds the segment's row lock."""
    count = SegmentMembership.objects.filter(segment_id=segment.pk).count()
    old = segment.customer_count
    if count != old:
        now = timezone.now()
        Segment.objects.filter(pk=segment.pk).update(customer_count=count, updated_at=now)
        segment.customer_count, segment.updated_at = count, now
    return SegmentRecount(segment_id=segment.pk, code=segment.code, old=old, new=count)


@transaction.atomic
def segment_recount(*, segment_id: uuid.UUID) -> SegmentRecount | None:
    """
    Make the segment's ``customer_count`` equal its membership rows; idempotent. ``None``
    when the segment no longer exists (there is no count left to keep).
    """
    # Lock first, then count in a new statement. Under READ COMMITTED a single
    # ``UPDATE ... SET customer_count = (SELECT COUNT(*) ...)`` takes its snapshot before it
    # waits for the row lock: when a concurrent assign commits and releases the row, the
    # UPDATE goes ahead with a count that misses that assign's rows. The COUNT issued after
    # the lock is granted gets a fresh snapshot holding every committed row.
    segment = (
        Segment.objects.select_for_update(no_key=True)
        .only("pk", "code", "customer_count", "updated_at")
        .filter(pk=segment_id)
        .first()
    )
    if segment is None:
        return None
    return _store_true_count(segment)


def segment_recount_all(*, segment_ids: Iterable[uuid.UUID] | None = None) -> list[SegmentRecount]:
    """Recount these segments (every segment when ``None``), each in its own transaction."""
    if segment_ids is None:
        segment_ids = Segment.objects.order_by("code").values_list("pk", flat=True)
    results = [segment_recount(segment_id=segment_id) for segment_id in list(segment_ids)]
    return [result for result in results if result is not None]


# --- membership --------------------------------------------------------------------------------


@transaction.atomic
def segment_assign_customers(*, actor, segment: Segment, customer_ids: Iterable[uuid.UUID | str]) -> AssignResult:
    """Put the customers in the segment; those already in it stay as they are."""
    _require_manager(actor, "change segment membership")
    ids = _distinct_ids(customer_ids)
    # The segment row first: concurrent changes of this segment's membership queue here.
    segment = _locked(segment)
    _refuse_unknown(ids)
    count_before = segment.customer_count
    added = _insert_memberships(segment, actor, *_id_rows(ids)) if ids else []
    assigned = len(added)
    count = _store_true_count(segment).new
    segment.customer_count = count
    _note_memberships(segment, actor, added, added=True, count_before=count_before)
    return AssignResult(
        segment_id=segment.pk, assigned=assigned, already_assigned=len(ids) - assigned, customer_count=count
    )


@transaction.atomic
def segment_remove_customers(*, actor, segment: Segment, customer_ids: Iterable[uuid.UUID | str]) -> RemoveResult:
    """Take the customers out of the segment; those not in it are counted, not refused."""
    _require_manager(actor, "change segment membership")
    ids = _distinct_ids(customer_ids)
    segment = _locked(segment)  # The segment row first, as in every membership change.
    _refuse_unknown(ids)
    count_before = segment.customer_count
    gone = _delete_memberships(segment, ids) if ids else []
    removed = len(gone)
    count = _store_true_count(segment).new
    segment.customer_count = count
    _note_memberships(segment, actor, gone, added=False, count_before=count_before)
    return RemoveResult(segment_id=segment.pk, removed=removed, not_assigned=len(ids) - removed, customer_count=count)


@transaction.atomic
def segment_apply_criteria(*, actor, segment: Segment) -> ApplyCriteriaResult:
    """
    Put every customer that meets the segment's criteria in it (members that no longer meet
    them stay: removing is a decision, not a side effect). Refused (409) when no criterion
    can be evaluated, since that would put every active customer in the segment.
    """
    _require_manager(actor, "change segment membership")
    segment = _locked(segment)  # The segment row first, as in every membership change.
    compiled = criteria_filter(segment.criteria)
    if not compiled.recognized:
        raise Conflict(
            "This segment has no criteria the CRM can evaluate, so every active customer would match; "
            "nothing was assigned."
        )
    matching = Customer.objects.filter(compiled.condition)
    matched = matching.count()
    count_before = segment.customer_count
    added = _insert_memberships(segment, actor, *_matching_rows(matching))
    assigned = len(added)
    count = _store_true_count(segment).new
    segment.customer_count = count
    _note_memberships(segment, actor, added, added=True, count_before=count_before)
    return ApplyCriteriaResult(
        segment_id=segment.pk,
        assigned=assigned,
        # Two statements: a customer edited between them can shift the split, never the rows.
        already_assigned=max(matched - assigned, 0),
        customer_count=count,
        unrecognized_criteria=compiled.unrecognized,
    )


def segments_due_for_refresh() -> QuerySet[Segment]:
    """The active segments marked ``auto_refresh``, in the order segments are listed."""
    return Segment.objects.filter(is_active=True, auto_refresh=True).order_by("priority", "name", "id")


def segment_refresh_start(*, day) -> Job:
    """Ask for the nightly refresh of the ``auto_refresh`` segments (one job per day, however often asked)."""
    return job_create(kind="segment_refresh", key=f"segment_refresh:{day.isoformat()}")


# --- merges (``crm_project/merging``): the memberships of merged customers ------------------------


def _membership_rows(queryset) -> list[dict[str, Any]]:
    return [
        {
            "id": row["id"],
            "segment_id": str(row["segment_id"]),
            "customer_id": str(row["customer_id"]),
            "added_by_id": row["added_by_id"],
            "added_at": history.jsonable(row["added_at"]),
        }
        for row in queryset.order_by("segment_id", "customer_id").values(
            "id", "segment_id", "customer_id", "added_by_id", "added_at"
        )
    ]


def segment_memberships_merge(*, actor, survivor_id: uuid.UUID, duplicate_ids: Sequence[uuid.UUID]) -> dict:
    """
    The duplicates' memberships go to the survivor: a row of a segment the survivor is not in
    moves to it (once per segment), any other is dropped, so nobody is in a segment twice and
    each count stays true (recounted under the segment's lock). One history entry and one
    ``segment.membership_changed`` event per segment touched. Answers what
    ``segment_memberships_unmerge`` needs: ``{"moved": [rows], "dropped": [rows]}``.
    """
    touched = SegmentMembership.objects.filter(customer_id__in=list(duplicate_ids)).values("segment_id")
    # The segment rows first, in id order, as every membership change takes them.
    segment_ids = segments_lock(segment_ids=touched)
    if not segment_ids:
        return {"moved": [], "dropped": []}
    rows = _membership_rows(SegmentMembership.objects.filter(customer_id__in=list(duplicate_ids)))
    survivor_in = {
        str(pk)
        for pk in SegmentMembership.objects.filter(customer_id=survivor_id, segment_id__in=segment_ids).values_list(
            "segment_id", flat=True
        )
    }
    moved, dropped = [], []
    for row in rows:
        if row["segment_id"] in survivor_in:
            dropped.append(row)
        else:
            moved.append(row)
            survivor_in.add(row["segment_id"])
    # QuerySet.update and a DELETE statement send no signals: the counts are kept true below.
    SegmentMembership.objects.filter(pk__in=[row["id"] for row in moved]).update(customer_id=survivor_id)
    if dropped:
        where, params = pk_in(SegmentMembership, [row["id"] for row in dropped], connection)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {_MEMBERSHIP_TABLE} WHERE {where}", params)
    _recount_and_note(segment_ids, actor, left=rows, joined=[{**row, "customer_id": str(survivor_id)} for row in moved])
    return {"moved": moved, "dropped": dropped}


def segment_memberships_unmerge(*, actor, survivor_id: uuid.UUID, memberships: Mapping[str, list[dict]]) -> None:
    """
    Undo ``segment_memberships_merge`` once the duplicates are back: moved rows go back to
    their customer, dropped rows come back as they were (same id, same ``added_at``). 409
    naming the segment when a moved row has since left it, or a segment was deleted.
    """
    moved, dropped = memberships.get("moved", []), memberships.get("dropped", [])
    wanted = sorted({row["segment_id"] for row in [*moved, *dropped]})
    if not wanted:
        return
    segment_ids = segments_lock(segment_ids=wanted)
    missing = set(wanted) - {str(pk) for pk in segment_ids}
    if missing:
        raise Conflict(f"The segment {sorted(missing)[0]} was deleted after the merge; the merge cannot be undone.")
    present = set(
        SegmentMembership.objects.filter(pk__in=[row["id"] for row in moved], customer_id=survivor_id).values_list(
            "pk", flat=True
        )
    )
    for row in moved:
        if row["id"] not in present:
            code = Segment.objects.filter(pk=row["segment_id"]).values_list("code", flat=True).first()
            raise Conflict(
                f"The customer has since left the segment {code}, which it joined by the merge; "
                "the merge cannot be undone."
            )
    for row in moved:
        SegmentMembership.objects.filter(pk=row["id"]).update(customer_id=row["customer_id"])
    SegmentMembership.objects.bulk_create(
        [
            SegmentMembership(
                id=row["id"],
                segment_id=row["segment_id"],
                customer_id=row["customer_id"],
                added_by_id=row["added_by_id"],
                added_at=row["added_at"],
            )
            for row in dropped
        ]
    )
    _recount_and_note(
        segment_ids, actor, left=[{**row, "customer_id": str(survivor_id)} for row in moved], joined=[*moved, *dropped]
    )


def _recount_and_note(segment_ids, actor, *, left: list[dict], joined: list[dict]) -> None:
    """Recount each segment (its row locked by the caller) and note who left and who joined it."""
    for segment in Segment.objects.filter(pk__in=segment_ids).order_by("pk"):
        count_before = segment.customer_count
        _store_true_count(segment)
        gone = [uuid.UUID(row["customer_id"]) for row in left if row["segment_id"] == str(segment.pk)]
        came = [uuid.UUID(row["customer_id"]) for row in joined if row["segment_id"] == str(segment.pk)]
        _note_memberships(segment, actor, gone, added=False, count_before=count_before)
        _note_memberships(segment, actor, came, added=True, count_before=count_before)
