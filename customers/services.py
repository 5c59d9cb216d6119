"""
Writes of customers. Invariants guarded here:

- ``customer_code`` is ``CUST-XXXXXX`` from the shared running counter, never reused;
- the account manager is an active user with a CRM role (400), and a sales rep may make only
  themselves (or nobody) the account manager (403);
- every change leaves a history entry in its transaction (``core/changes.py``), and a new
  customer tells the subscribers of ``customer.created``;
- only managers delete customers, and never one that leads, opportunities or
  communications still refer to (409);
- the duplicate-matching keys (``match_*``) follow the company name, e-mail and phone on every
  write (``crm_project/core/matching.py``);
- ``last_contacted_at`` is the latest communication about the customer: moved forward as
  communications are logged, recomputed when one is moved or deleted (called by the
  communications domain; only these functions write it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crm_project.core.changes import created, note_change
from crm_project.core.matching import set_match_keys
from crm_project.core.models import HistoryAction
from crm_project.core.numbering import next_running_number
from crm_project.core.roles import check_crm_user, is_manager
from crm_project.core.services import (
    apply_changes,
    apply_tracked_changes,
    delete_unless_referenced,
    lock_for_update,
    refresh_derived,
)

from .models import Customer

CUSTOMER_NUMBER_PREFIX = "CUST"
RECORD_TYPE = "customer"

EDITABLE_FIELDS = (
    "company_name",
    "industry",
    "contact_person",
    "email",
    "phone",
    "website",
    "address",
    "city",
    "state",
    "country",
    "credit_rating",
    "payment_terms",
    "annual_spend",
    "order_frequency",
    "account_manager",
    "is_active",
)


def _check_account_manager(*, actor, account_manager) -> None:
    check_crm_user(account_manager, field="account_manager_id")
    if account_manager is not None and account_manager != actor and not is_manager(actor):
        raise PermissionDenied("Sales reps can make only themselves the account manager (account_manager_id).")


def _noted(customer: Customer, *, action: str, actor, changes=None, event: str | None = None) -> None:
    note_change(
        record_type=RECORD_TYPE,
        record=customer,
        action=action,
        actor=actor,
        changes=changes,
        customer_id=customer.pk,
        event=event,
    )


@transaction.atomic
def customer_create(*, actor, data: dict[str, Any]) -> Customer:
    _check_account_manager(actor=actor, account_manager=data.get("account_manager"))
    customer = Customer(created_by=actor if getattr(actor, "pk", None) else None)
    apply_changes(customer, data, allowed=EDITABLE_FIELDS)
    customer.customer_code = next_running_number(CUSTOMER_NUMBER_PREFIX)
    set_match_keys(customer)
    customer.save()
    changes = created(customer, ("customer_code", *EDITABLE_FIELDS))
    _noted(customer, action=HistoryAction.CREATED, actor=actor, changes=changes, event="customer.created")
    return customer


@transaction.atomic
def customer_update(*, actor, customer: Customer, data: dict[str, Any], if_match: str | None = None) -> Customer:
    customer = lock_for_update(customer, if_match=if_match)
    if "account_manager" in data and data["account_manager"] != customer.account_manager:
        _check_account_manager(actor=actor, account_manager=data["account_manager"])
    changes = apply_tracked_changes(customer, data, allowed=EDITABLE_FIELDS)
    if changes:
        customer.touch()
        set_match_keys(customer)
        customer.save()
        _noted(customer, action=HistoryAction.UPDATED, actor=actor, changes=changes)
    return customer


@transaction.atomic
def customer_delete(*, actor, customer: Customer, if_match: str | None = None) -> None:
    if not is_manager(actor):
        raise PermissionDenied("Only sales managers can delete customers.")
    customer = lock_for_update(customer, if_match=if_match)
    # Written first: the history outlives the record, and a refused delete rolls it back.
    _noted(customer, action=HistoryAction.DELETED, actor=actor)
    delete_unless_referenced(customer, name=customer.customer_code, instead="Deactivate the customer instead.")


def customer_record_contact(*, customer_id, contacted_at) -> None:
    """
    Move ``last_contacted_at`` forward to ``contacted_at`` (never back): called by the
    communication service for each communication about the customer.
    """
    # A conditional UPDATE, atomic on its own: concurrent loggers can only move it forward.
    Customer.objects.filter(pk=customer_id).filter(
        Q(last_contacted_at__isnull=True) | Q(last_contacted_at__lt=contacted_at)
    ).update(last_contacted_at=contacted_at, updated_at=timezone.now())


def customer_refresh_last_contacted(*, customer_ids: Iterable, latest_contact: Callable[[set], Mapping]) -> None:
    """
    Recompute ``last_contacted_at`` of the customers ``customer_ids`` after communications about
    them were moved or deleted: ``latest_contact(ids)`` gives the latest communication date per
    customer (read by the communications domain under the lock ``refresh_derived`` takes first).
    """
    refresh_derived(Customer, "last_contacted_at", customer_ids, compute=latest_contact)
