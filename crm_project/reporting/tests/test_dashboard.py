"""The sales dashboard on the admin's front page: the API's figures, per user, in fixed queries."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from communications.selectors import engagement_summary
from communications.tests.factories import CommunicationFactory
from crm_project.core.tests.factories import UserFactory
from leads.models import LeadStatus
from leads.tests.factories import LeadFactory
from opportunities.tests.factories import OpportunityFactory
from segments.tests.factories import SegmentFactory, SegmentMembershipFactory

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("admin:index")


@pytest.fixture
def rep_admin(client, rep):
    client.force_login(rep)
    return client


@pytest.fixture
def manager_admin(client, manager):
    client.force_login(manager)
    return client


def dashboard_of(client):
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    return response.context["dashboard"], response.content.decode()


def today_at(hour: int, days: int = 0) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


# --- the page -----------------------------------------------------------------------------------


def test_the_admin_front_page_is_the_sales_dashboard(manager_admin):
    dashboard, content = dashboard_of(manager_admin)
    assert dashboard is not None
    assert "<title>Dashboard | Sales CRM</title>" in content
    assert ">Sales CRM</a>" in content  # The site header.
    for panel in ("crm-follow-ups", "crm-lead-funnel", "crm-engagement", "crm-segments"):
        assert f'id="{panel}"' in content


def test_the_app_list_stays_reachable_from_the_dashboard(manager_admin):
    _, content = dashboard_of(manager_admin)
    for model in ("leads_lead", "opportunities_opportunity", "customers_customer", "communications_communication"):
        assert f'href="{reverse(f"admin:{model}_changelist")}"' in content
    assert manager_admin.get(reverse("admin:app_list", args=["leads"])).status_code == 200


def test_charts_are_inline_svg_drawn_by_the_server_with_nothing_loaded_from_elsewhere(manager_admin, manager):
    OpportunityFactory(owner=manager)
    LeadFactory()
    CommunicationFactory(our_representative=manager)
    _, content = dashboard_of(manager_admin)
    assert content.count('<svg class="crm-chart"') == 3  # Pipeline, lead funnel, engagement.
    assert '<svg class="crm-ring"' in content  # Win rate.
    assert not re.search(r"""(src|href)=["']https?://""", content)
    scripts = re.findall(r"<script[^>]*src=\"([^\"]+)\"", content)
    # Django's own, and the CRM's one small script (crm/admin.js: the sidebar's default); no chart library.
    assert all(src.startswith("/static/admin/") or src == "/static/crm/admin.js" for src in scripts), scripts


def test_an_empty_crm_shows_empty_states_with_a_way_forward(manager_admin):
    _, content = dashboard_of(manager_admin)
    assert "No opportunities yet." in content and reverse("admin:opportunities_opportunity_add") in content
    assert "No leads yet." in content
    assert "Nothing due today and nothing overdue." in content
    assert "No communications logged this month yet." in content
    assert "No active segments." in content


def test_staff_without_a_sales_role_get_a_notice_instead_of_figures(client):
    client.force_login(UserFactory(username="it_admin"))
    dashboard, content = dashboard_of(client)
    assert dashboard is None
    assert "no sales role" in content


def test_the_dashboard_needs_a_signed_in_staff_user(client):
    response = client.get(DASHBOARD)
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


# --- the same figures as the API ----------------------------------------------------------------------


def test_pipeline_figures_are_the_apis(manager_admin, manager_client, manager, rep):
    OpportunityFactory(owner=rep, estimated_value=Decimal("1000"), probability=50, stage="proposal")
    OpportunityFactory(owner=manager, estimated_value=Decimal("300"), won=True)
    OpportunityFactory(owner=manager, estimated_value=Decimal("200"), lost=True)
    dashboard, content = dashboard_of(manager_admin)
    api = manager_client.get("/api/v1/crm/opportunities/pipeline/stats").json()

    stats = dashboard["pipeline"]["stats"]
    assert stats["open_opportunities"] == api["open_opportunities"] == 1
    assert float(stats["total_pipeline_value"]) == api["total_pipeline_value"] == 1000
    assert float(stats["weighted_pipeline_value"]) == api["weighted_pipeline_value"] == 500
    assert float(stats["win_rate"]) == api["win_rate"] == 50
    assert "50.00%" in content


def test_lead_funnel_figures_are_the_apis(manager_admin, manager_client):
    for status, count in [(LeadStatus.NEW, 3), (LeadStatus.QUALIFIED, 2), (LeadStatus.CONVERTED, 1)]:
        LeadFactory.create_batch(count, status=status)
    dashboard, _ = dashboard_of(manager_admin)
    api = manager_client.get("/api/v1/crm/leads/analytics/summary").json()
    summary = dashboard["leads"]["summary"]
    assert summary["by_status"] == api["by_status"]
    assert summary["total_leads"] == api["total_leads"] == 6
    assert summary["conversion_rate"] == api["conversion_rate"]


def test_engagement_is_this_months_by_representative(manager_admin, manager, rep):
    CommunicationFactory.create_batch(2, our_representative=rep, duration_minutes=30)
    CommunicationFactory(our_representative=manager)
    last_month = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    CommunicationFactory(
        our_representative=rep, communication_date=today_at(10, days=-(timezone.localdate() - last_month).days)
    )
    dashboard, content = dashboard_of(manager_admin)
    today = timezone.localdate()
    expected = engagement_summary(user=manager, start_date=today.replace(day=1), end_date=today)
    assert dashboard["engagement"]["summary"] == expected
    assert [bar.label for bar in dashboard["engagement"]["chart"].bars] == [
        rep.get_full_name(),
        manager.get_full_name(),
    ]
    assert f"our_representative__id__exact={rep.pk}" in content  # Each bar opens that rep's list.


# --- what a rep sees ------------------------------------------------------------------------------


def test_a_reps_dashboard_counts_only_what_the_rep_may_see(rep_admin, rep_client, rep, other_rep):
    OpportunityFactory(owner=rep, estimated_value=Decimal("1000"))
    OpportunityFactory(owner=other_rep, estimated_value=Decimal("99999"), name="Hidden deal")
    LeadFactory(assigned_to=rep)
    LeadFactory(assigned_to=other_rep, company_name="Hidden Lead Co")
    dashboard, content = dashboard_of(rep_admin)
    api = rep_client.get("/api/v1/crm/opportunities/pipeline/stats").json()

    assert dashboard["pipeline"]["stats"]["open_opportunities"] == api["open_opportunities"] == 1
    assert float(dashboard["pipeline"]["stats"]["total_pipeline_value"]) == 1000
    assert dashboard["leads"]["summary"]["total_leads"] == 1
    assert "Hidden" not in content and "99,999" not in content


def test_my_follow_ups_list_todays_and_overdue_ones_with_links(rep_admin, rep, other_rep):
    due_today = LeadFactory(assigned_to=rep, company_name="Due Today Co", next_follow_up_date=today_at(12))
    overdue = LeadFactory(assigned_to=rep, company_name="Overdue Co", next_follow_up_date=today_at(9, days=-3))
    LeadFactory(assigned_to=rep, company_name="Tomorrow Co", next_follow_up_date=today_at(9, days=1))
    LeadFactory(assigned_to=rep, company_name="Lost Co", status=LeadStatus.LOST, next_follow_up_date=today_at(9))
    LeadFactory(assigned_to=other_rep, company_name="Their Co", next_follow_up_date=today_at(9))
    call = CommunicationFactory(
        our_representative=rep, subject="Send the price list", requires_follow_up=True, follow_up_date=today_at(8, -1)
    )
    CommunicationFactory(
        our_representative=rep, subject="Next week", requires_follow_up=True, follow_up_date=today_at(8, 7)
    )
    CommunicationFactory(
        our_representative=rep,
        subject="Done already",
        requires_follow_up=True,
        follow_up_date=today_at(8, -1),
        follow_up_completed=True,
        follow_up_completed_at=timezone.now(),
    )

    dashboard, content = dashboard_of(rep_admin)

    follow_ups = dashboard["follow_ups"]
    assert [item.title.split(" — ")[0] for item in follow_ups["leads"]] == ["Overdue Co", "Due Today Co"]
    assert [item.is_overdue for item in follow_ups["leads"]] == [True, False]
    assert [item.title for item in follow_ups["communications"]] == ["Send the price list"]
    assert follow_ups["communications"][0].is_overdue
    assert follow_ups["total"] == 3
    for record, model in [(due_today, "leads_lead"), (overdue, "leads_lead"), (call, "communications_communication")]:
        assert reverse(f"admin:{model}_change", args=[record.pk]) in content
    for hidden in ("Tomorrow Co", "Lost Co", "Their Co", "Next week", "Done already"):
        assert hidden not in content


def test_a_long_follow_up_list_is_cut_with_a_link_to_all_of_them(rep_admin, rep):
    LeadFactory.create_batch(11, assigned_to=rep, next_follow_up_date=today_at(9, days=-1))
    dashboard, content = dashboard_of(rep_admin)
    assert len(dashboard["follow_ups"]["leads"]) == 8
    assert dashboard["follow_ups"]["lead_total"] == 11
    assert "All 11 lead follow-ups" in content
    # The link opens the lead list filtered the same way: the rep's due and overdue follow-ups.
    listed = rep_admin.get(dashboard["follow_ups"]["leads_url"]).context["cl"].result_count
    assert listed == 11


# --- segments -------------------------------------------------------------------------------------


def test_segments_show_their_open_and_won_value(manager_admin, manager):
    segment = SegmentFactory(name="Key accounts", code="KEY")
    SegmentFactory(name="Dormant", code="OLD", is_active=False)
    member = SegmentMembershipFactory(segment=segment).customer
    OpportunityFactory(customer=member, owner=manager, estimated_value=Decimal("5000"))
    OpportunityFactory(customer=member, owner=manager, estimated_value=Decimal("700"), won=True)
    OpportunityFactory(owner=manager, estimated_value=Decimal("123456"))  # Not a member's.

    dashboard, content = dashboard_of(manager_admin)

    (row,) = dashboard["segments"]["rows"]
    assert (row.code, row.customer_count, row.open_count) == ("KEY", 1, 1)
    assert (row.open_value, row.won_value, row.win_rate) == (Decimal("5000"), Decimal("700"), Decimal("100.00"))
    assert "Dormant" not in content


# --- speed ----------------------------------------------------------------------------------------


def _a_busy_crm(reps, size: int) -> None:
    """``size`` of everything per rep: deals in each stage, due follow-ups, segments, calls."""
    for rep in reps:
        for _ in range(size):
            OpportunityFactory(owner=rep, stage="proposal")
            OpportunityFactory(owner=rep, won=True)
            LeadFactory(assigned_to=rep, next_follow_up_date=today_at(9, days=-1))
            CommunicationFactory(our_representative=rep, requires_follow_up=True, follow_up_date=today_at(9, days=-1))
            segment = SegmentFactory()
            SegmentMembershipFactory(segment=segment)


@pytest.mark.parametrize("persona", ["manager", "rep"])
def test_the_dashboard_loads_in_a_fixed_number_of_queries(client, persona, request, django_assert_max_num_queries):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    reps = [user, request.getfixturevalue("other_rep")]
    _a_busy_crm(reps, size=9)  # More follow-ups and segments than the panels show: lists are cut.
    with django_assert_max_num_queries(20) as small:
        assert client.get(DASHBOARD).status_code == 200
    _a_busy_crm([*reps, UserFactory(role="sales_rep")], size=6)
    with django_assert_max_num_queries(20) as large:
        assert client.get(DASHBOARD).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)
