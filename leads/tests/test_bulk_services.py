"""The bulk paths of the lead services: imports (``lead_bulk_create``) and reassignment."""

import datetime as dt
import math
import threading
import time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from communications.models import Communication
from communications.tests.factories import CommunicationFactory
from crm_project.core.commands import system_actor
from crm_project.core.models import DailySequence
from crm_project.core.tests.factories import ManagerFactory, UserFactory
from leads import services
from leads.models import Lead, LeadStatus

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


def test_bulk_create_refuses_an_email_a_lead_already_has_in_any_case(manager):
    LeadFactory(email="Buyer@Acme.example")

    result = services.lead_bulk_create(actor=manager, rows={2: row("new@acme.example"), 3: row("BUYER@acme.EXAMPLE")})

    assert result.rejected == {3: {"email": [services.EMAIL_TAKEN]}}
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
    monkeypatch.setattr(services, "BULK_CREATE_BATCH", 2)
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
    batch = min(services.BULK_CREATE_BATCH, connection.ops.bulk_batch_size(fields, list(rows)))
    inserts = math.ceil(len(rows) / batch)
    # Savepoint, counter lock, one email lookup, number block, release; and the INSERTs.
    with django_assert_max_num_queries(5 + inserts):
        services.lead_bulk_create(actor=manager, rows=rows)
    assert Lead.objects.count() == 300


def test_a_race_past_the_email_check_is_refused_by_the_index_as_a_validation_error(manager, monkeypatch):
    LeadFactory(email="raced@acme.example")
    monkeypatch.setattr(services, "_emails_taken", lambda emails: set())  # As if created meanwhile.

    with pytest.raises(ValidationError) as refused:
        services.lead_bulk_create(actor=manager, rows={2: row("fresh@acme.example"), 3: row("RACED@acme.example")})

    assert refused.value.message_dict == {"email": [services.EMAIL_TAKEN]}
    assert Lead.objects.count() == 1


def test_the_system_actor_creates_leads_that_nobody_created(manager):
    services.lead_bulk_create(actor=system_actor(), rows={2: row("sys@acme.example", assigned_to=manager)})
    lead = Lead.objects.get()
    assert lead.created_by is None and lead.assigned_to == manager


# --- lead_reassign_bulk --------------------------------------------------------------------------


@pytest.fixture
def handover(rep, other_rep):
    """rep's leads in every status, one lead of other_rep's, and follow-ups on them."""
    leads = {status: LeadFactory(assigned_to=rep, status=status) for status in LeadStatus.values}
    leads["theirs"] = LeadFactory(assigned_to=other_rep)
    due = timezone.now() + dt.timedelta(days=1)
    follow_ups = {
        "pending": CommunicationFactory(
            lead=leads[LeadStatus.NEW], our_representative=rep, requires_follow_up=True, follow_up_date=due
        ),
        "done": CommunicationFactory(
            lead=leads[LeadStatus.NEW],
            our_representative=rep,
            requires_follow_up=True,
            follow_up_date=due,
            follow_up_completed=True,
        ),
        "by_someone_else": CommunicationFactory(
            lead=leads[LeadStatus.CONTACTED], our_representative=other_rep, requires_follow_up=True, follow_up_date=due
        ),
        "on_a_lost_lead": CommunicationFactory(
            lead=leads[LeadStatus.LOST], our_representative=rep, requires_follow_up=True, follow_up_date=due
        ),
    }
    return leads, follow_ups


def assignee(lead) -> object:
    lead.refresh_from_db()
    return lead.assigned_to


def representative(communication) -> object:
    communication.refresh_from_db()
    return communication.our_representative


def test_reassign_moves_open_leads_and_the_from_users_pending_follow_ups_on_them(manager, rep, other_rep, handover):
    leads, follow_ups = handover
    before = timezone.now()

    moved = services.lead_reassign_bulk(actor=manager, from_user=rep, to_user=other_rep)

    assert moved == services.LeadReassignment(leads=3, follow_ups=1)
    for status in (LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED):
        assert assignee(leads[status]) == other_rep
        assert leads[status].updated_at >= before
    assert assignee(leads[LeadStatus.CONVERTED]) == rep
    assert assignee(leads[LeadStatus.LOST]) == rep
    assert representative(follow_ups["pending"]) == other_rep
    assert follow_ups["pending"].updated_at >= before
    assert representative(follow_ups["done"]) == rep
    assert representative(follow_ups["by_someone_else"]) == other_rep
    assert representative(follow_ups["on_a_lost_lead"]) == rep


def test_reassign_narrowed_to_statuses_moves_only_those(manager, rep, other_rep, handover):
    leads, follow_ups = handover

    moved = services.lead_reassign_bulk(
        actor=manager, from_user=rep, to_user=other_rep, statuses=[LeadStatus.CONTACTED, LeadStatus.QUALIFIED]
    )

    assert moved == services.LeadReassignment(leads=2, follow_ups=0)
    assert assignee(leads[LeadStatus.NEW]) == rep
    assert representative(follow_ups["pending"]) == rep


def test_reassign_refuses_closed_statuses(manager, rep, other_rep, handover):
    with pytest.raises(ValidationError) as refused:
        services.lead_reassign_bulk(actor=manager, from_user=rep, to_user=other_rep, statuses=[LeadStatus.CONVERTED])
    assert "status" in refused.value.message_dict
    assert assignee(handover[0][LeadStatus.NEW]) == rep


def test_reassign_is_for_managers_only(rep, other_rep, handover):
    with pytest.raises(PermissionDenied):
        services.lead_reassign_bulk(actor=rep, from_user=rep, to_user=other_rep)
    assert assignee(handover[0][LeadStatus.NEW]) == rep


@pytest.mark.parametrize(
    "target",
    [
        pytest.param(lambda: UserFactory(username="outsider"), id="no CRM role"),
        pytest.param(lambda: UserFactory(username="gone", role="sales_rep", is_active=False), id="deactivated"),
    ],
)
def test_reassign_refuses_a_target_who_is_not_an_active_crm_user(manager, rep, handover, target):
    with pytest.raises(ValidationError):
        services.lead_reassign_bulk(actor=manager, from_user=rep, to_user=target())
    assert Lead.objects.filter(assigned_to=rep).count() == 5


def test_reassign_refuses_moving_leads_to_their_own_assignee(manager, rep, handover):
    with pytest.raises(ValidationError):
        services.lead_reassign_bulk(actor=manager, from_user=rep, to_user=rep)


def test_reassign_takes_two_statements_whatever_the_number_of_leads(
    manager, rep, other_rep, django_assert_max_num_queries
):
    LeadFactory.create_batch(40, assigned_to=rep)
    # Savepoint, the actor's and the target's roles, the communications UPDATE, the leads
    # UPDATE, release: never one per lead.
    with django_assert_max_num_queries(6):
        moved = services.lead_reassign_bulk(actor=manager, from_user=rep, to_user=other_rep)
    assert moved.leads == 40
    assert not Communication.objects.exists()


# --- a create racing an import (PostgreSQL) ------------------------------------------------------


def _wait_until_a_backend_waits_for_a_lock(timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("No connection ever waited for the import's lock.")


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
    _wait_until_a_backend_waits_for_a_lock()
    release.set()
    importer.join(10)
    creator.join(10)

    assert isinstance(outcome["error"], ValidationError)
    assert outcome["error"].message_dict == {"email": [services.EMAIL_TAKEN]}
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
    _wait_until_a_backend_waits_for_a_lock()
    release.set()
    creator.join(10)
    importer.join(10)

    assert "error" not in outcome
    assert outcome["result"].rejected == {2: {"email": [services.EMAIL_TAKEN]}}
    assert outcome["result"].accepted == [3]
    assert Lead.objects.count() == 2
