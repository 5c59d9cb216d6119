"""
Writes of opportunities. Invariants guarded here:

- ``opportunity_number`` is ``OPP-YYYYMMDD-XXXX`` from today's counter, taken inside the
  creating transaction (distinct and contiguous under concurrent creates);
- the customer is required, and the customer and the lead must be visible to the actor;
- the owner defaults to the actor and is an active user with a CRM role (400); a sales rep may
  only own an opportunity themselves (403);
- a client moves an opportunity between open stages only; closed_won and closed_lost are
  reached through ``opportunity_close`` alone, and a closed opportunity never changes again
  (409);
- ``expected_revenue`` is ``estimated_value × probability / 100`` after every write;
- ``products_interested`` is a JSON object or list;
- ``forecast_category`` follows the stage (``STAGE_FORECAST_CATEGORY``) until an owner or
  manager chooses one (any category but ``closed``, which belongs to won deals); a choice
  sticks through later stage moves (``forecast_category_chosen``) until closing, which sets
  it from the outcome (won → closed, lost → omitted) and forgets the choice;
- closing is won (probability 100) or lost (probability 0, with a non-blank loss reason),
  and exactly one of many concurrent closes succeeds;
- every stage a record enters (creation and closing included) leaves an
  ``OpportunityStageChange`` row (the stage history velocity reads), and every change a
  history entry (``stage_changed``, ``closed_won``...), in the change's transaction;
- changing the customer or the lead moves the opportunity's communications with it, in the
  same transaction (``opportunity_relinked``; the communications domain receives it);
- only managers delete opportunities, and never one that communications refer to (409);
- a merge moves the opportunities of the merged customers or leads at once
  (``opportunities_relink``; the merge moves their communications itself), and its undo
  moves exactly those back, or refuses (409) naming one deleted or relinked since.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from crm_project.core.changes import created, note_change
from crm_project.core.exceptions import Conflict
from crm_project.core.history import changes_between, relink_customer, snapshot
from crm_project.core.models import HistoryAction
from crm_project.core.numbering import next_daily_number
from crm_project.core.roles import check_crm_user, is_manager
from crm_project.core.services import (
    append_note,
    apply_changes,
    delete_unless_referenced,
    lock_for_update,
    relink,
    relink_back,
)
from customers.selectors import customer_list_visible_to
from leads.selectors import lead_list_visible_to

from ..models import (
    CHOOSABLE_FORECAST_CATEGORIES,
    CLOSED_STAGES,
    CLOSING_PROBABILITY,
    STAGE_FORECAST_CATEGORY,
    Opportunity,
    OpportunityStage,
    OpportunityStageChange,
    compute_expected_revenue,
)
from ..signals import opportunity_relinked

OPPORTUNITY_NUMBER_PREFIX = "OPP"

EDITABLE_FIELDS = (
    "name",
    "description",
    "customer",
    "lead",
    "owner",
    "estimated_value",
    "probability",
    "expected_close_date",
    "stage",
    "forecast_category",
    "next_step",
    "next_step_date",
    "products_interested",
    "notes",
)
# What an opportunity's history follows.
TRACKED_FIELDS = (*EDITABLE_FIELDS, "expected_revenue", "actual_close_date", "loss_reason")
RECORD_TYPE = "opportunity"
REQUIRED_ON_CREATE = {"name": "name", "customer": "customer_id", "estimated_value": "estimated_value"}


# --- checks shared by the writes --------------------------------------------------------


def _actor_or_none(actor):
    """The user to record as author; None for a system caller without a saved user."""
    return actor if getattr(actor, "pk", None) else None


def _check_owner(*, actor, owner) -> None:
    """A sales rep owns their opportunities themselves: no handing them to others or to nobody."""
    check_crm_user(owner, field="owner_id")
    if is_manager(actor):
        return
    if owner is None or owner.pk != getattr(actor, "pk", None):
        raise PermissionDenied("Sales reps can only own opportunities themselves (owner_id).")


def _check_open_stage(stage: str) -> None:
    if stage in CLOSED_STAGES:
        raise ValidationError(
            {"stage": f"An opportunity is closed only through close (POST .../close), not by setting {stage}."}
        )


def _chosen_forecast_category(data: dict[str, Any]) -> str | None:
    """The category an owner or manager chose in ``data`` (None when they chose none)."""
    category = data.get("forecast_category")
    if category in (None, ""):
        return None
    if category not in CHOOSABLE_FORECAST_CATEGORIES:
        choices = ", ".join(CHOOSABLE_FORECAST_CATEGORIES)
        raise ValidationError({"forecast_category": f"Choose one of {choices}; closed is set by closing as won."})
    return category


def _check_products(data: dict[str, Any]) -> None:
    if "products_interested" in data and not isinstance(data["products_interested"], (dict, list)):
        raise ValidationError({"products_interested": "Must be a JSON object or list."})


def _check_links_visible(*, actor, customer=None, lead=None) -> None:
    """The customer and lead must be records the actor may see (hidden reads as missing)."""
    if customer is not None and not customer_list_visible_to(actor).filter(pk=customer.pk).exists():
        raise ValidationError({"customer_id": "No such customer."})
    if lead is not None and not lead_list_visible_to(actor).filter(pk=lead.pk).exists():
        raise ValidationError({"lead_id": "No such lead."})


def _noted(opportunity: Opportunity, *, action: str, actor, changes=None, event: str | None = None) -> None:
    note_change(
        record_type=RECORD_TYPE,
        record=opportunity,
        action=action,
        actor=actor,
        changes=changes,
        customer_id=opportunity.customer_id,
        event=event,
    )


def _record_stage(opportunity: Opportunity, *, from_stage: str, actor, at: dt.datetime, notes: str = "") -> None:
    OpportunityStageChange.objects.create(
        opportunity=opportunity,
        from_stage=from_stage,
        to_stage=opportunity.stage,
        changed_by=_actor_or_none(actor),
        changed_at=at,
        estimated_value=opportunity.estimated_value,
        probability=opportunity.probability,
        notes=notes,
    )


# --- writes -------------------------------------------------------------------------------


@transaction.atomic
def opportunity_create(*, actor, data: dict[str, Any]) -> Opportunity:
    """
    ``data`` holds model field names (``customer``, ``lead``, ``owner`` as instances).
    Absent ``owner`` means the actor; absent ``stage`` means prospecting.
    """
    data = {**data}
    missing = {
        api: "This field is required." for field, api in REQUIRED_ON_CREATE.items() if data.get(field) in (None, "")
    }
    if missing:
        raise ValidationError(missing)
    if "owner" not in data:
        data["owner"] = _actor_or_none(actor)
    _check_owner(actor=actor, owner=data["owner"])
    _check_open_stage(data.get("stage") or OpportunityStage.PROSPECTING)
    _check_products(data)
    _check_links_visible(actor=actor, customer=data["customer"], lead=data.get("lead"))
    chosen_category = _chosen_forecast_category(data)
    data.pop("forecast_category", None)

    opportunity = Opportunity(
        **{name: data[name] for name in EDITABLE_FIELDS if name in data}, created_by=_actor_or_none(actor)
    )
    opportunity.forecast_category = chosen_category or STAGE_FORECAST_CATEGORY[opportunity.stage]
    opportunity.forecast_category_chosen = chosen_category is not None
    opportunity.expected_revenue = compute_expected_revenue(opportunity.estimated_value, opportunity.probability)
    opportunity.opportunity_number = next_daily_number(OPPORTUNITY_NUMBER_PREFIX)
    opportunity.save()
    _record_stage(opportunity, from_stage="", actor=actor, at=opportunity.created_at)
    changes = created(opportunity, ("opportunity_number", *TRACKED_FIELDS))
    _noted(opportunity, action=HistoryAction.CREATED, actor=actor, changes=changes, event="opportunity.created")
    return opportunity


def _forecast_category_after(opportunity: Opportunity, *, chosen: str | None) -> str:
    """The choice made now, else the one made before, else the category of the (new) stage."""
    if chosen is not None:
        return chosen
    if opportunity.forecast_category_chosen:
        return opportunity.forecast_category
    return STAGE_FORECAST_CATEGORY[opportunity.stage]


@transaction.atomic
def opportunity_update(
    *, actor, opportunity: Opportunity, data: dict[str, Any], if_match: str | None = None
) -> Opportunity:
    """Change an open opportunity; a stage change (between open stages) is recorded."""
    # Locked so that a concurrent close or update cannot interleave with this one.
    opportunity = lock_for_update(opportunity, if_match=if_match)
    if opportunity.is_closed:
        raise Conflict(
            f"{opportunity.opportunity_number} is {opportunity.get_stage_display().lower()}; "
            "a closed opportunity cannot be changed."
        )
    if "stage" in data:
        _check_open_stage(data["stage"])
    _check_products(data)
    data = {**data}
    chosen_category = _chosen_forecast_category(data)
    data.pop("forecast_category", None)
    if "owner" in data and getattr(data["owner"], "pk", None) != opportunity.owner_id:
        _check_owner(actor=actor, owner=data["owner"])
    new_customer, new_lead = data.get("customer"), data.get("lead")
    if "customer" in data and new_customer is None:
        raise ValidationError({"customer_id": "An opportunity must have a customer."})
    _check_links_visible(
        actor=actor,
        # Only a new link is checked: keeping the current one needs no permission.
        customer=new_customer if new_customer is not None and new_customer.pk != opportunity.customer_id else None,
        lead=new_lead if new_lead is not None and new_lead.pk != opportunity.lead_id else None,
    )

    previous_stage, previous_customer_id, previous_lead_id = (
        opportunity.stage,
        opportunity.customer_id,
        opportunity.lead_id,
    )
    before = snapshot(opportunity, TRACKED_FIELDS)
    changed = apply_changes(opportunity, data, allowed=EDITABLE_FIELDS)
    category = _forecast_category_after(opportunity, chosen=chosen_category)
    if chosen_category is not None and not opportunity.forecast_category_chosen:
        # Choosing the category the stage gave still makes it stick through later moves.
        opportunity.forecast_category_chosen = True
        changed = [*changed, "forecast_category_chosen"]
    if category != opportunity.forecast_category:
        opportunity.forecast_category = category
        changed = [*changed, "forecast_category"]
    if not changed:
        return opportunity
    if {"estimated_value", "probability"} & set(changed):
        opportunity.expected_revenue = compute_expected_revenue(opportunity.estimated_value, opportunity.probability)
    opportunity.touch()
    opportunity.save()
    if "stage" in changed:
        _record_stage(opportunity, from_stage=previous_stage, actor=actor, at=opportunity.updated_at)
    if "customer" in changed:
        # Its whole history shows on the new customer's timeline, as its communications do.
        relink_customer(record_type=RECORD_TYPE, record_ids=[opportunity.pk], customer_id=opportunity.customer_id)
    moved_stage = "stage" in changed
    _noted(
        opportunity,
        action=HistoryAction.STAGE_CHANGED if moved_stage else HistoryAction.UPDATED,
        actor=actor,
        changes=changes_between(before, snapshot(opportunity, TRACKED_FIELDS)),
        event="opportunity.stage_changed" if moved_stage else None,
    )
    if {"customer", "lead"} & set(changed):
        # Its communications move with it, in this transaction (their receiver).
        opportunity_relinked.send(
            sender=Opportunity,
            opportunity=opportunity,
            previous_customer_id=previous_customer_id,
            previous_lead_id=previous_lead_id,
            actor=actor,
        )
    return opportunity


@transaction.atomic
def opportunity_close(
    *,
    actor,
    opportunity: Opportunity,
    stage: str,
    actual_close_date: dt.datetime | None = None,
    loss_reason: str | None = "",
    notes: str | None = "",
    if_match: str | None = None,
) -> Opportunity:
    """Close as won or lost: probability 100 or 0, close date (default now), dated notes."""
    loss_reason = (loss_reason or "").strip()
    if stage not in CLOSED_STAGES:
        raise ValidationError({"stage": "Close as closed_won or closed_lost."})
    if stage == OpportunityStage.CLOSED_LOST and not loss_reason:
        raise ValidationError({"loss_reason": "A loss reason is required when closing as lost."})
    if stage == OpportunityStage.CLOSED_WON and loss_reason:
        raise ValidationError({"loss_reason": "A loss reason is given only when closing as lost."})

    # The row lock makes the "still open?" check and the close one step: of many concurrent
    # closes, the first holds the lock and the others see it closed once they get it (409).
    opportunity = lock_for_update(opportunity, if_match=if_match)
    if opportunity.is_closed:
        raise Conflict(
            f"{opportunity.opportunity_number} is already {opportunity.get_stage_display().lower()}; "
            "it cannot be closed again."
        )

    before = snapshot(opportunity, TRACKED_FIELDS)
    opportunity.touch()
    now = opportunity.updated_at
    previous_stage = opportunity.stage
    opportunity.stage = stage
    opportunity.probability = CLOSING_PROBABILITY[stage]
    # Closing decides the category whatever was chosen before: won is closed, lost omitted.
    opportunity.forecast_category = STAGE_FORECAST_CATEGORY[stage]
    opportunity.forecast_category_chosen = False
    opportunity.expected_revenue = compute_expected_revenue(opportunity.estimated_value, opportunity.probability)
    opportunity.actual_close_date = actual_close_date or now
    opportunity.loss_reason = loss_reason
    opportunity.notes = append_note(opportunity.notes, notes, actor=actor, at=now)
    opportunity.save()
    _record_stage(opportunity, from_stage=previous_stage, actor=actor, at=now, notes=(notes or "").strip())
    won = stage == OpportunityStage.CLOSED_WON
    _noted(
        opportunity,
        action=HistoryAction.CLOSED_WON if won else HistoryAction.CLOSED_LOST,
        actor=actor,
        changes=changes_between(before, snapshot(opportunity, TRACKED_FIELDS)),
        event="opportunity.won" if won else "opportunity.lost",
    )
    return opportunity


@transaction.atomic
def opportunity_delete(*, actor, opportunity: Opportunity, if_match: str | None = None) -> None:
    if not is_manager(actor):
        raise PermissionDenied("Only sales managers can delete opportunities.")
    # Locked so that a concurrent update or close cannot resurrect what is being deleted.
    opportunity = lock_for_update(opportunity, if_match=if_match)
    # Written first: the history outlives the record, and a refused delete rolls it back.
    _noted(opportunity, action=HistoryAction.DELETED, actor=actor)
    delete_unless_referenced(opportunity, name=opportunity.opportunity_number, instead="Close it as lost instead.")


# --- merges (``crm_project/merging``): the opportunities of merged records move to the survivor ---

# What a merge relinks, and the customer whose timeline then shows the opportunity.
MERGE_LINKS = ("customer", "lead")


def opportunities_relink(*, actor, field: str, from_ids, to_id) -> dict[str, list[str]]:
    """
    Move every opportunity of the customers (``field="customer"``) or leads (``"lead"``)
    ``from_ids`` to ``to_id`` at once, one history entry each; answer the moves for
    ``opportunities_relink_back``. Their communications move with the merged record's own.
    """
    assert field in MERGE_LINKS
    return relink(
        Opportunity,
        field,
        from_ids=from_ids,
        to_id=to_id,
        record_type=RECORD_TYPE,
        actor=actor,
        timeline_field="customer_id",
    )


def opportunities_relink_back(*, actor, field: str, moves, current_id) -> None:
    """Undo ``opportunities_relink``; 409 naming an opportunity deleted or relinked since."""
    assert field in MERGE_LINKS
    relink_back(
        Opportunity,
        field,
        moves=moves,
        current_id=current_id,
        record_type=RECORD_TYPE,
        actor=actor,
        timeline_field="customer_id",
    )


# Quotas and forecast snapshots: their own modules, importable from here.
from .forecast import forecast_snapshot_take  # noqa: E402
from .quotas import quota_create, quota_delete, quota_import, quota_update  # noqa: E402

__all__ = [
    "forecast_snapshot_take",
    "opportunities_relink",
    "opportunities_relink_back",
    "opportunity_close",
    "opportunity_create",
    "opportunity_delete",
    "opportunity_update",
    "quota_create",
    "quota_delete",
    "quota_import",
    "quota_update",
]
