"""
Handing a rep's open leads to someone else with their pending follow-ups: the service
``reassign_leads_with_follow_ups`` and ``manage.py reassign_leads``.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from communications.models import Communication
from communications.services import LeadReassignment, reassign_leads_with_follow_ups
from communications.tests.factories import CommunicationFactory
from crm_project.core.tests.command_runs import call, refused
from crm_project.core.tests.factories import UserFactory
from leads.models import Lead, LeadStatus
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


# --- the service --------------------------------------------------------------------------


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

    moved = reassign_leads_with_follow_ups(actor=manager, from_user=rep, to_user=other_rep)

    assert moved == LeadReassignment(leads=3, follow_ups=1)
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

    moved = reassign_leads_with_follow_ups(
        actor=manager, from_user=rep, to_user=other_rep, statuses=[LeadStatus.CONTACTED, LeadStatus.QUALIFIED]
    )

    assert moved == LeadReassignment(leads=2, follow_ups=0)
    assert assignee(leads[LeadStatus.NEW]) == rep
    assert representative(follow_ups["pending"]) == rep


def test_reassign_refuses_closed_statuses(manager, rep, other_rep, handover):
    with pytest.raises(ValidationError) as refused:
        reassign_leads_with_follow_ups(actor=manager, from_user=rep, to_user=other_rep, statuses=[LeadStatus.CONVERTED])
    assert "status" in refused.value.message_dict
    assert assignee(handover[0][LeadStatus.NEW]) == rep


def test_reassign_is_for_managers_only(rep, other_rep, handover):
    with pytest.raises(PermissionDenied):
        reassign_leads_with_follow_ups(actor=rep, from_user=rep, to_user=other_rep)
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
        reassign_leads_with_follow_ups(actor=manager, from_user=rep, to_user=target())
    assert Lead.objects.filter(assigned_to=rep).count() == 5


def test_reassign_refuses_moving_leads_to_their_own_assignee(manager, rep, handover):
    with pytest.raises(ValidationError):
        reassign_leads_with_follow_ups(actor=manager, from_user=rep, to_user=rep)


def test_reassign_takes_the_same_statements_whatever_the_number_of_leads(
    manager, rep, other_rep, django_assert_max_num_queries
):
    def reassign_queries(leads: int) -> int:
        for lead in LeadFactory.create_batch(leads, assigned_to=rep):
            CommunicationFactory(
                lead=lead, our_representative=rep, requires_follow_up=True, follow_up_date=timezone.now()
            )
        # The actor's and the target's roles; the follow-ups locked, moved and recorded in one
        # INSERT; the leads the same; the subscriptions; three savepoints and their releases:
        # never one per lead.
        with django_assert_max_num_queries(15) as queries:
            moved = reassign_leads_with_follow_ups(actor=manager, from_user=rep, to_user=other_rep)
        assert (moved.leads, moved.follow_ups) == (Lead.objects.count(), Communication.objects.count())
        # Back to the rep for the next round.
        Lead.objects.update(assigned_to=rep)
        Communication.objects.update(our_representative=rep)
        return len(queries.captured_queries)

    reassign_queries(2)  # The first call also reads the roles and the subscriptions, then kept.
    assert reassign_queries(3) == reassign_queries(40)


# --- manage.py reassign_leads -------------------------------------------------------------------------------


def test_reassign_moves_the_leads_and_follow_ups_and_says_how_many(rep, other_rep):
    lead = LeadFactory(assigned_to=rep, status=LeadStatus.CONTACTED)
    LeadFactory(assigned_to=rep, status=LeadStatus.NEW)
    LeadFactory(assigned_to=rep, status=LeadStatus.LOST)
    follow_up = CommunicationFactory(
        lead=lead, our_representative=rep, requires_follow_up=True, follow_up_date=timezone.now()
    )

    out, _ = call("reassign_leads", "--from", "rep", "--to", "other_rep")

    assert out.strip() == "Moved 2 open leads and 1 pending follow-up from rep to other_rep."
    assert Lead.objects.filter(assigned_to=other_rep).count() == 2
    follow_up.refresh_from_db()
    assert follow_up.our_representative == other_rep


def test_reassign_status_narrows_and_may_be_repeated(rep, other_rep):
    for status in (LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED):
        LeadFactory(assigned_to=rep, status=status)

    out, _ = call(
        "reassign_leads", "--from", str(rep.pk), "--to", "other_rep", "--status", "new", "--status", "qualified"
    )

    assert out.startswith("Moved 2 open leads")
    assert set(Lead.objects.filter(assigned_to=other_rep).values_list("status", flat=True)) == {"new", "qualified"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "ghost", "--to", "rep"], "--from: no user with the username or id 'ghost'."),
        (["--from", "rep", "--to", "ghost"], "--to: no user with the username or id 'ghost'."),
        (["--from", "rep", "--to", "rep"], "The leads already belong to this user: name someone else to move them to."),
        (
            ["--from", "rep", "--to", "no_role"],
            "no_role is not an active sales rep or sales manager; choose one who is.",
        ),
        (["--from", "rep", "--to", "gone"], "gone is not an active sales rep or sales manager; choose one who is."),
        (
            ["--from", "rep", "--to", "other_rep", "--status", "converted"],
            "status: Only open leads can be reassigned: contacted, new, qualified.",
        ),
    ],
)
def test_reassign_refuses_bad_input_and_moves_nothing(rep, other_rep, no_role_user, args, message):
    UserFactory(username="gone", role="sales_rep", is_active=False)
    LeadFactory(assigned_to=rep)
    assert refused("reassign_leads", *args) == message
    assert Lead.objects.get().assigned_to == rep


def test_reassign_needs_from_and_to():
    with pytest.raises(CommandError, match="the following arguments are required: --from, --to"):
        call_command("reassign_leads")
