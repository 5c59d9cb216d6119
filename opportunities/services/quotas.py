"""
Writes of quotas (a user's target for one month). Invariants guarded here:

- only managers write quotas (403); anyone may be given one who is an active CRM user (400 on
  ``user_id``);
- ``period_start`` is the first day of a month (400; check constraint ``quota_period_starts_a_month``);
- one quota per user and month (400 on ``period_start``; ``quota_one_per_user_and_month`` is the
  last line against races); the amount is ≥ 0;
- the CSV import (``quota_import``) is all or nothing: every row is checked first, then each
  (user, month) is created or its amount updated;
- every write leaves a history entry (record type ``quota``) in its transaction.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from crm_project.core.changes import created, note_change
from crm_project.core.history import changes_between, snapshot
from crm_project.core.models import HistoryAction
from crm_project.core.roles import check_crm_user, is_manager
from crm_project.core.services import apply_changes, lock_for_update

from ..models import Quota

RECORD_TYPE = "quota"
QUOTA_FIELDS = ("user", "period_start", "amount")


def _check_manager(actor) -> None:
    if not is_manager(actor):
        raise PermissionDenied("Only sales managers can set quotas.")


def _check_quota(*, user, period_start: dt.date, amount: Decimal, exclude_pk=None) -> None:
    check_crm_user(user, field="user_id")
    if period_start.day != 1:
        raise ValidationError({"period_start": "A quota's period_start is the first day of a month."})
    if amount < 0:
        raise ValidationError({"amount": "A quota cannot be negative."})
    taken = Quota.objects.filter(user=user, period_start=period_start).exclude(pk=exclude_pk)
    if taken.exists():
        raise ValidationError({"period_start": f"{user.get_username()} already has a quota for {period_start:%Y-%m}."})


def _noted(quota: Quota, *, action: str, actor, changes=None) -> None:
    note_change(record_type=RECORD_TYPE, record=quota, action=action, actor=actor, changes=changes)


@transaction.atomic
def quota_create(*, actor, data: dict[str, Any]) -> Quota:
    """``data``: ``user`` (an instance), ``period_start`` (a date), ``amount``."""
    _check_manager(actor)
    missing = {
        ("user_id" if name == "user" else name): "This field is required."
        for name in QUOTA_FIELDS
        if data.get(name) is None
    }
    if missing:
        raise ValidationError(missing)
    _check_quota(user=data["user"], period_start=data["period_start"], amount=Decimal(data["amount"]))
    quota = Quota.objects.create(**{name: data[name] for name in QUOTA_FIELDS})
    _noted(quota, action=HistoryAction.CREATED, actor=actor, changes=created(quota, QUOTA_FIELDS))
    return quota


@transaction.atomic
def quota_update(*, actor, quota: Quota, data: dict[str, Any], if_match: str | None = None) -> Quota:
    _check_manager(actor)
    # Locked so that two managers' edits of one quota apply one after the other.
    quota = lock_for_update(quota, if_match=if_match)
    before = snapshot(quota, QUOTA_FIELDS)
    changed = apply_changes(quota, {k: v for k, v in data.items() if v is not None}, allowed=QUOTA_FIELDS)
    if not changed:
        return quota
    _check_quota(user=quota.user, period_start=quota.period_start, amount=Decimal(quota.amount), exclude_pk=quota.pk)
    quota.touch()
    quota.save()
    _noted(
        quota, action=HistoryAction.UPDATED, actor=actor, changes=changes_between(before, snapshot(quota, QUOTA_FIELDS))
    )
    return quota


@transaction.atomic
def quota_delete(*, actor, quota: Quota, if_match: str | None = None) -> None:
    _check_manager(actor)
    quota = lock_for_update(quota, if_match=if_match)
    _noted(quota, action=HistoryAction.DELETED, actor=actor)
    quota.delete()


@transaction.atomic
def quota_import(*, actor, rows: list[dict[str, Any]], first_row: int = 1) -> dict[str, int]:
    """
    Set many quotas at once (the CSV import): ``rows`` of ``user``, ``period_start``, ``amount``.
    Each (user, month) is created, or its amount changed; a row repeating an earlier one's
    user and month is refused. All or nothing: the first bad row (numbered from ``first_row``) refuses all.
    """
    _check_manager(actor)
    seen: set[tuple[int, dt.date]] = set()
    for number, row in enumerate(rows, start=first_row):
        try:
            check_crm_user(row["user"], field="user_id")
            if row["period_start"].day != 1 or row["amount"] < 0:
                raise ValidationError("period_start must be a first of the month and amount ≥ 0.")
        except ValidationError as error:
            raise ValidationError(f"Row {number}: {'; '.join(error.messages)}") from error
        key = (row["user"].pk, row["period_start"])
        if key in seen:
            raise ValidationError(f"Row {number}: {row['user'].get_username()} {row['period_start']:%Y-%m} repeats.")
        seen.add(key)
    existing = {
        (quota.user_id, quota.period_start): quota
        for quota in Quota.objects.select_for_update().filter(
            # Locked: a concurrent import or edit of the same quotas waits for this one.
            user_id__in={user_id for user_id, _ in seen},
            period_start__in={month for _, month in seen},
        )
    }
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for row in rows:
        quota = existing.get((row["user"].pk, row["period_start"]))
        if quota is None:
            quota_create(actor=actor, data=row)
            counts["created"] += 1
        elif quota.amount != row["amount"]:
            quota_update(actor=actor, quota=quota, data={"amount": row["amount"]})
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    return counts
