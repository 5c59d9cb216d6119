"""
Every changelist of the sales admin stays fast as tables grow: a fixed number of queries per
page whatever the rows show (each related record joined, never fetched per row), counts that
do not read a big table on every load, and a date drill-down without full-table scans.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from communications.tests.factories import CommunicationFactory
from crm_project.core import admin as core_admin
from crm_project.core.admin import EstimatedCountPaginator, planner_row_estimate
from crm_project.core.tests.factories import UserFactory
from customers.tests.factories import CustomerFactory
from leads.models import Lead
from leads.tests.factories import LeadFactory
from opportunities.tests.factories import OpportunityFactory
from segments.tests.factories import SegmentFactory, SegmentMembershipFactory

pytestmark = pytest.mark.django_db


def _lead(rep):
    return LeadFactory(assigned_to=rep, company_name="Textile House", next_follow_up_date=timezone.now())


def _opportunity(rep):
    return OpportunityFactory(owner=rep, lead=LeadFactory(assigned_to=rep), name="Textile order")


def _customer(rep):
    customer = CustomerFactory(account_manager=rep, company_name="Textile Mart")
    SegmentMembershipFactory(customer=customer)
    return customer


def _communication(rep):
    """About everything at once: a customer, a lead and an opportunity, all shown in the row."""
    opportunity = OpportunityFactory(owner=rep)
    return CommunicationFactory(
        customer=opportunity.customer,
        lead=LeadFactory(assigned_to=rep),
        opportunity=opportunity,
        our_representative=rep,
        subject="Textile samples",
        requires_follow_up=True,
        follow_up_date=timezone.now(),
    )


def _segment(rep):
    segment = SegmentFactory(name="Textile buyers")
    SegmentMembershipFactory(segment=segment)
    return segment


CHANGELISTS = {
    "leads_lead": (_lead, ["", "?status__exact=new", "?q=textile", "?assigned_to=me", "?follow_up=due"]),
    "opportunities_opportunity": (_opportunity, ["", "?stage__exact=prospecting", "?q=textile"]),
    "customers_customer": (_customer, ["", "?is_active__exact=1", "?q=textile"]),
    "communications_communication": (_communication, ["", "?follow_up=due", "?q=textile", "?type__exact=phone"]),
    "segments_segment": (_segment, ["", "?is_active__exact=1", "?q=textile"]),
}


def _cases():
    for model, (_make, queries) in CHANGELISTS.items():
        for query in queries:
            for persona in ("manager", "rep"):
                yield pytest.param(model, query, persona, id=f"{model}{query or ''}-{persona}")


@pytest.mark.parametrize(("model", "query", "persona"), list(_cases()))
def test_each_changelist_loads_in_a_fixed_number_of_queries(model, query, persona, client, request):
    user = request.getfixturevalue(persona)
    make = CHANGELISTS[model][0]
    client.force_login(user)
    url = reverse(f"admin:{model}_changelist") + query

    # The rows belong to the user who looks at them (a rep sees only their own records).
    for _ in range(5):
        make(user)
    client.get(url)  # Warm: filters may keep their choices for a while (CountryFilter).
    with CaptureQueriesContext(connection) as five:
        response = client.get(url)
    assert response.status_code == 200
    assert response.context["cl"].result_count == 5, "the rows must be on the page for the test to mean anything"

    for _ in range(45):
        make(user)
    with CaptureQueriesContext(connection) as fifty:
        response = client.get(url)
    assert response.context["cl"].result_count == 50
    assert len(fifty.captured_queries) == len(five.captured_queries), [q["sql"] for q in fifty.captured_queries]


def test_the_user_changelist_loads_in_a_fixed_number_of_queries(client, superuser):
    client.force_login(superuser)
    url = reverse("admin:auth_user_changelist")
    UserFactory.create_batch(5)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    UserFactory.create_batch(45)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


# --- counting -------------------------------------------------------------------------------------


def test_the_count_is_exact_where_the_planner_has_no_estimate(manager):
    LeadFactory.create_batch(3)
    paginator = EstimatedCountPaginator(Lead.objects.order_by("pk"), 100)
    assert paginator.count == 3 and not paginator.count_is_estimate


def test_a_filtered_list_is_never_estimated(manager):
    assert planner_row_estimate(Lead.objects.filter(status="new")) is None


@pytest.mark.postgres
def test_an_unfiltered_big_list_shows_the_planners_estimate(client, manager, monkeypatch):
    monkeypatch.setattr(core_admin, "ESTIMATE_COUNTS_ABOVE", 10)
    LeadFactory.create_batch(12)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_lead")  # What autovacuum does on a real table.
    client.force_login(manager)

    page = client.get(reverse("admin:leads_lead_changelist"))
    assert page.context["cl"].paginator.count_is_estimate
    assert page.context["cl"].result_count == 12
    assert "about</span> 12 leads" in page.content.decode()
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("admin:leads_lead_changelist"))
    assert not any("COUNT(*)" in query["sql"] for query in queries.captured_queries)

    filtered = client.get(reverse("admin:leads_lead_changelist") + "?status__exact=new")
    assert not filtered.context["cl"].paginator.count_is_estimate  # Counted exactly.


# --- the date drill-down --------------------------------------------------------------------------


def _created(year: int, month: int) -> None:
    lead = LeadFactory()
    Lead.objects.filter(pk=lead.pk).update(created_at=timezone.make_aware(dt.datetime(year, month, 15, 12)))


def _choices(response) -> list[str]:
    return [choice["title"] for choice in response.context["choices"]] if "choices" in response.context else []


def test_the_date_drill_down_offers_years_and_months_without_scanning_the_table(client, manager):
    client.force_login(manager)
    _created(2023, 11)
    _created(2025, 2)
    _created(2025, 5)
    url = reverse("admin:leads_lead_changelist")

    with CaptureQueriesContext(connection) as queries:
        years = client.get(url)
    assert _choices(years) == ["2023", "2024", "2025"]  # From the first to the last row's year.

    months = client.get(url + "?created_at__year=2025")
    assert _choices(months) == ["February 2025", "March 2025", "April 2025", "May 2025"]
    assert months.context["cl"].result_count == 2

    days = client.get(url + "?created_at__year=2025&created_at__month=5")
    assert _choices(days) == ["May 15"]  # Within one month the days come from the rows.

    assert not any("DISTINCT" in query["sql"] for query in queries.captured_queries)


# --- what the cells show (the layout itself is checked in a browser: test_admin_browser.py) ------

LONG_NAME = "Sri Venkateswara Handloom & Powerloom Textile Exporters Private Limited"


def _december_15() -> dt.datetime:
    return timezone.make_aware(dt.datetime(2025, 12, 15, 10, 30))


def _long_named(model: str, rep) -> None:
    customer = CustomerFactory(company_name=LONG_NAME, account_manager=rep)
    if model == "leads_lead":
        LeadFactory(company_name=LONG_NAME, assigned_to=rep, next_follow_up_date=_december_15())
    elif model == "opportunities_opportunity":
        OpportunityFactory(customer=customer, owner=rep, expected_close_date=_december_15())
    elif model == "communications_communication":
        CommunicationFactory(
            customer=customer,
            our_representative=rep,
            communication_date=_december_15(),
            requires_follow_up=True,
            follow_up_date=_december_15(),
        )
    else:
        customer.__class__.objects.filter(pk=customer.pk).update(last_contacted_at=_december_15())


@pytest.mark.parametrize(
    "model", ["leads_lead", "opportunities_opportunity", "communications_communication", "customers_customer"]
)
def test_long_names_are_cut_with_the_whole_name_on_hover_and_dates_are_short(model, client, manager):
    _long_named(model, UserFactory(first_name="Anantharaman", last_name="Krishnaswamy-Venkatesan"))
    client.force_login(manager)

    content = client.get(reverse(f"admin:{model}_changelist")).content.decode()

    escaped = LONG_NAME.replace("&", "&amp;")
    assert f'<span class="crm-truncate" title="{escaped}">{escaped}</span>' in content
    assert 'title="Anantharaman Krishnaswamy-Venkatesan">' in content  # People by name, not username.
    assert "15 Dec 2025" in content
    assert "Dec. 15" not in content
