"""The bulk paths of the lead services: imports (``lead_bulk_create``) and reassignment."""

import math
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from crm_project.core.commands import system_actor
from crm_project.core.models import DailySequence
from crm_project.core.tests.concurrency import wait_until_a_connection_waits_for_a_lock
from crm_project.core.tests.factories import ManagerFactory
from leads import services
from leads.models import Lead, LeadStatus
from leads.services import bulk
from leads.services.rules import EMAIL_TAKEN

from .factories import LeadFactory

pytestmark = pytest.mark.django_db


def row(email: str, **fields) -> dict:
    return {"company_name": "Acme Uniforms", "contact_person": "Asha Rao", "email": email, **fields}


def today_prefix() -> str:
    return f"LEAD-{timezone.localdate():%Y%m%d}-"


# --- lead_bulk_create ----------------------------------------------------------------------------


def test_bulk_create_numbers_the_leads_from_one_block_of_todays_sequence(manager):
    services.lead_create(actor=manager, data=row("first@acme.example"))

    result = services.lead_bulk_create(actor=manager, rows={2: row("a@acme.example"), 3: row("b@acme.example")})

    assert result.numbers == [f"{today_prefix()}0002", f"{today_prefix()}0003"]
    assert result.accepted == [2, 3] and result.rejected == {}
    a = Lead.objects.get(email="a@acme.example")
    assert (a.lead_number, a.status, a.created_by) == (f"{today_prefix()}0002", LeadStatus.NEW, manager)
    assert services.lead_create(actor=manager, data=row("next@acme.example")).lead_number == f"{today_prefix()}0004"


def test_a_bulk_created_lead_holds_what_lead_create_would_have_written(manager, rep):
    # Every kind of value (text, blank, choice, decimal, timestamp, link, null) through the
    # bulk insert (COPY on PostgreSQL), against the one-by-one create.
    full = row(
        "full@acme.example",
        website="https://acme.example",
        phone="+91 98 0000 0000",
        industry="",
        source="referral",
        priority="high",
        estimated_deal_value=Decimal("125000.50"),
        next_follow_up_date=timezone.now() + timedelta(days=3),
        notes="Line one\nline two, with a tab\tand a backslash \\",
        assigned_to=rep,
    )
    single = Lead.objects.get(pk=services.lead_create(actor=manager, data=full).pk)
    single.delete()

    services.lead_bulk_create(actor=manager, rows={2: full})

    bulk_lead = Lead.objects.get(email="full@acme.example")
    skip = {"id", "lead_number", "created_at", "updated_at"}
    columns = [field.attname for field in Lead._meta.concrete_fields if field.attname not in skip]
    assert {name: getattr(bulk_lead, name) for name in columns} == {name: getattr(single, name) for name in columns}
    assert abs(bulk_lead.created_at - single.created_at) < timedelta(minutes=1)


def test_bulk_create_refuses_an_email_a_lead_already_has_in_any_case(manager):
    LeadFactory(email="Buyer@Acme.example")

    result = services.lead_bulk_create(actor=manager, rows={2: row("new@acme.example"), 3: row("BUYER@acme.EXAMPLE")})

    assert result.rejected == {3: {"email": [EMAIL_TAKEN]}}
    assert result.created == 0  # All or nothing.
    assert Lead.objects.count() == 1


def test_bulk_create_refuses_a_later_row_with_an_earlier_rows_email(manager):
    result = services.lead_bulk_create(
        actor=manager, rows={2: row("dup@acme.example"), 5: row("DUP@acme.example")}, skip_invalid=True
    )

    assert result.rejected == {5: {"email": ["Same email as row 2."]}}
    assert list(Lead.objects.values_list("email", flat=True)) == ["dup@acme.example"]


def test_bulk_create_applies_the_required_fields_and_the_reps_assignee_rule(rep, other_rep):
    rows = {
        2: row("ok@acme.example", assigned_to=rep),
        3: row("theirs@acme.example", assigned_to=other_rep),
        4: {"email": "nameless@acme.example"},
    }

    result = services.lead_bulk_create(actor=rep, rows=rows, skip_invalid=True)

    assert result.accepted == [2]
    assert list(result.rejected[3]) == ["assigned_to"]
    assert set(result.rejected[4]) == {"company_name", "contact_person"}
    assert Lead.objects.get().assigned_to == rep


def test_bulk_create_is_all_or_nothing_by_default_and_takes_no_number(manager):
    result = services.lead_bulk_create(actor=manager, rows={2: row("good@acme.example"), 3: row("")})

    assert result.accepted == [2] and list(result.rejected) == [3]
    assert result.created == 0
    assert not Lead.objects.exists()
    assert services.lead_create(actor=manager, data=row("x@acme.example")).lead_number == f"{today_prefix()}0001"


def test_bulk_create_with_skip_invalid_creates_the_valid_rows_numbered_without_gaps(manager):
    LeadFactory(email="taken@acme.example")

    result = services.lead_bulk_create(
        actor=manager,
        rows={2: row("one@acme.example"), 3: row("taken@acme.example"), 4: row("two@acme.example")},
        skip_invalid=True,
    )

    assert result.accepted == [2, 4]
    assert result.numbers == [f"{today_prefix()}0001", f"{today_prefix()}0002"]
    assert DailySequence.objects.get(prefix="LEAD").last_value == 2


def test_a_dry_run_decides_every_row_and_writes_nothing(manager):
    LeadFactory(email="taken@acme.example")

    result = services.lead_bulk_create(
        actor=manager, rows={2: row("new@acme.example"), 3: row("taken@acme.example")}, dry_run=True
    )

    assert result.accepted == [2] and list(result.rejected) == [3]
    assert result.numbers == []
    assert Lead.objects.count() == 1
    assert not DailySequence.objects.exists()


def test_bulk_create_reports_progress_per_batch(manager, monkeypatch):
    monkeypatch.setattr(bulk, "BULK_CREATE_BATCH", 2)
    written = []

    services.lead_bulk_create(
        actor=manager, rows={n: row(f"p{n}@acme.example") for n in range(5)}, progress=written.append
    )

    assert written == [2, 2, 1]
    assert Lead.objects.count() == 5


def test_bulk_create_queries_do_not_grow_with_each_row(manager, django_assert_max_num_queries):
    rows = {n: row(f"q{n}@acme.example") for n in range(300)}
    # One INSERT per batch: 1,000 rows on PostgreSQL, fewer where SQLite's parameter limit bites.
    fields = Lead._meta.concrete_fields
    batch = min(bulk.BULK_CREATE_BATCH, connection.ops.bulk_batch_size(fields, list(rows)))
    inserts = math.ceil(len(rows) / batch)
    # Savepoint, counter lock, one email lookup, number block, the subscriptions, release; and
    # per batch, the INSERT of its leads and of their history.
    with django_assert_max_num_queries(6 + 2 * inserts):
        services.lead_bulk_create(actor=manager, rows=rows)
    assert Lead.objects.count() == 300


def test_a_race_past_the_email_check_is_refused_by_the_index_as_a_validation_error(manager, monkeypatch):
    LeadFactory(email="raced@acme.example")
    monkeypatch.setattr(bulk, "_emails_taken", lambda emails: set())  # As if created meanwhile.

    with pytest.raises(ValidationError) as refused:
        services.lead_bulk_create(actor=manager, rows={2: row("fresh@acme.example"), 3: row("RACED@acme.example")})

    assert refused.value.message_dict == {"email": [EMAIL_TAKEN]}
    assert Lead.objects.count() == 1


def test_the_system_actor_creates_leads_that_nobody_created(manager):
    services.lead_bulk_create(actor=system_actor(), rows={2: row("sys@acme.example", assigned_to=manager)})
    lead = Lead.objects.get()
    assert lead.created_by is None and lead.assigned_to == manager


# --- a create racing an import (PostgreSQL) ------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_create_racing_an_import_waits_for_it_and_gets_the_friendly_email_error():
    """
    The import locks today's counter row before checking emails, as lead_create does: a
    create of the same email meanwhile queues behind the import and then sees its lead (a
    400 on ``email``), instead of slipping past the check into the unique index (a 500).
    """
    manager = ManagerFactory(username="importer")
    imported, release = threading.Event(), threading.Event()
    outcome: dict = {}

    def import_and_hold_the_transaction() -> None:
        try:
            with transaction.atomic():
                services.lead_bulk_create(actor=manager, rows={2: row("race@acme.example")})
                imported.set()
                release.wait(10)
        finally:
            connections.close_all()

    def create_the_same_email() -> None:
        try:
            services.lead_create(actor=manager, data=row("RACE@acme.example"))
        except (ValidationError, IntegrityError) as exc:
            outcome["error"] = exc
        finally:
            connections.close_all()

    importer = threading.Thread(target=import_and_hold_the_transaction)
    importer.start()
    assert imported.wait(10)
    creator = threading.Thread(target=create_the_same_email)
    creator.start()
    wait_until_a_connection_waits_for_a_lock()
    release.set()
    importer.join(10)
    creator.join(10)

    assert isinstance(outcome["error"], ValidationError)
    assert outcome["error"].message_dict == {"email": [EMAIL_TAKEN]}
    assert list(Lead.objects.values_list("email", flat=True)) == ["race@acme.example"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_import_racing_a_create_waits_for_it_and_refuses_just_that_row():
    """
    A create still in its transaction holds today's counter row: the import queues on it
    before checking emails, then sees the new lead and refuses that one row, instead of
    checking too early and failing whole on the unique index.
    """
    manager = ManagerFactory(username="creator")
    created, release = threading.Event(), threading.Event()
    outcome: dict = {}

    def create_and_hold_the_transaction() -> None:
        try:
            with transaction.atomic():
                services.lead_create(actor=manager, data=row("race@acme.example"))
                created.set()
                release.wait(10)
        finally:
            connections.close_all()

    def import_the_same_email() -> None:
        try:
            rows = {2: row("RACE@acme.example"), 3: row("other@acme.example")}
            outcome["result"] = services.lead_bulk_create(actor=manager, rows=rows, skip_invalid=True)
        except ValidationError as exc:
            outcome["error"] = exc
        finally:
            connections.close_all()

    creator = threading.Thread(target=create_and_hold_the_transaction)
    creator.start()
    assert created.wait(10)
    importer = threading.Thread(target=import_the_same_email)
    importer.start()
    wait_until_a_connection_waits_for_a_lock()
    release.set()
    creator.join(10)
    importer.join(10)

    assert "error" not in outcome
    assert outcome["result"].rejected == {2: {"email": [EMAIL_TAKEN]}}
    assert outcome["result"].accepted == [3]
    assert Lead.objects.count() == 2
