"""
Record access, proven as a matrix: every persona (manager, rep, other rep, a user with no role,
anonymous) against every endpoint, with the exact status, and what each list contains.

The world: one customer; a lead assigned to the rep, one to the other rep, one unassigned; an
opportunity owned by each rep; communications logged by each rep about the customer, and two
logged by the other rep about the rep's lead and the rep's opportunity; one segment.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from communications.models import Communication
from communications.tests.factories import CommunicationFactory
from customers.tests.factories import CustomerFactory
from leads.models import Lead
from leads.tests.factories import LeadFactory
from opportunities.models import Opportunity, Quota
from opportunities.tests.factories import OpportunityFactory, OpportunityStageChangeFactory
from segments.models import Segment
from segments.tests.factories import SegmentFactory

pytestmark = pytest.mark.django_db

CRM = "/api/v1/crm"
PERSONAS = ("manager", "rep", "other_rep", "no_role", "anonymous")


@dataclass
class World:
    customer: object
    lead_rep: object
    lead_other: object
    lead_free: object
    opp_rep: object
    opp_other: object
    comm_rep: object
    comm_other: object
    comm_on_rep_lead: object
    comm_on_rep_opp: object
    segment: object
    quota_rep: object

    def ids(self) -> dict[str, str]:
        return {name: str(value.pk) for name, value in vars(self).items()}


@pytest.fixture
def world(rep, other_rep, manager) -> World:
    today = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    customer = CustomerFactory(company_name="Shared Customer")
    lead_rep = LeadFactory(assigned_to=rep, next_follow_up_date=today)
    lead_other = LeadFactory(assigned_to=other_rep, next_follow_up_date=today)
    lead_free = LeadFactory(assigned_to=None, next_follow_up_date=today)
    opp_rep = OpportunityFactory(owner=rep, customer=customer)
    opp_other = OpportunityFactory(owner=other_rep, customer=customer)
    due = timezone.now() + dt.timedelta(days=1)
    return World(
        customer=customer,
        lead_rep=lead_rep,
        lead_other=lead_other,
        lead_free=lead_free,
        opp_rep=opp_rep,
        opp_other=opp_other,
        comm_rep=CommunicationFactory(
            customer=customer, our_representative=rep, requires_follow_up=True, follow_up_date=due
        ),
        comm_other=CommunicationFactory(
            customer=customer, our_representative=other_rep, requires_follow_up=True, follow_up_date=due
        ),
        comm_on_rep_lead=CommunicationFactory(customer=None, lead=lead_rep, our_representative=other_rep),
        comm_on_rep_opp=CommunicationFactory(customer=customer, opportunity=opp_rep, our_representative=other_rep),
        segment=SegmentFactory(code="VIP"),
        quota_rep=Quota.objects.create(user=rep, period_start=dt.date(2026, 1, 1), amount=1000),
    )


@pytest.fixture
def clients(client_for, manager, rep, other_rep, no_role_user, anon_client) -> dict:
    return {
        "manager": client_for(manager),
        "rep": client_for(rep),
        "other_rep": client_for(other_rep),
        "no_role": client_for(no_role_user),
        "anonymous": anon_client,
    }


def expect(manager=200, rep=200, other_rep=200, no_role=403, anonymous=401) -> dict[str, int]:
    return {"manager": manager, "rep": rep, "other_rep": other_rep, "no_role": no_role, "anonymous": anonymous}


# --- reads ---------------------------------------------------------------------------------------

READS = [
    ("customers list", "/customers", expect()),
    ("customer detail", "/customers/{customer}", expect()),
    ("leads list", "/leads", expect()),
    ("rep's lead", "/leads/{lead_rep}", expect(other_rep=404)),
    ("other rep's lead", "/leads/{lead_other}", expect(rep=404)),
    ("unassigned lead", "/leads/{lead_free}", expect()),
    ("today's follow-ups", "/leads/follow-ups/today", expect()),
    ("customer duplicates", "/customers/{customer}/duplicates", expect()),
    ("rep's lead duplicates", "/leads/{lead_rep}/duplicates", expect(other_rep=404)),
    ("other rep's lead duplicates", "/leads/{lead_other}/duplicates", expect(rep=404)),
    ("unassigned lead duplicates", "/leads/{lead_free}/duplicates", expect()),
    ("lead analytics", "/leads/analytics/summary", expect()),
    ("opportunities list", "/opportunities", expect()),
    ("rep's opportunity", "/opportunities/{opp_rep}", expect(other_rep=404)),
    ("other rep's opportunity", "/opportunities/{opp_other}", expect(rep=404)),
    ("rep's opportunity history", "/opportunities/{opp_rep}/history", expect(other_rep=404)),
    ("other rep's opportunity history", "/opportunities/{opp_other}/history", expect(rep=404)),
    ("pipeline stats", "/opportunities/pipeline/stats", expect()),
    ("forecast", "/opportunities/forecast", expect()),
    ("velocity", "/opportunities/analytics/velocity", expect()),
    ("lead cohorts", "/leads/analytics/cohorts", expect()),
    ("quotas list", "/quotas", expect()),
    ("rep's quota", "/quotas/{quota_rep}", expect(other_rep=404)),
    ("communications list", "/communications", expect()),
    ("rep's communication", "/communications/{comm_rep}", expect(other_rep=404)),
    ("other rep's communication", "/communications/{comm_other}", expect(rep=404)),
    ("other rep's call about rep's lead", "/communications/{comm_on_rep_lead}", expect()),
    ("other rep's call about rep's opportunity", "/communications/{comm_on_rep_opp}", expect()),
    ("customer history", "/communications/customer/{customer}", expect()),
    ("rep's lead history", "/communications/lead/{lead_rep}", expect(other_rep=404)),
    ("other rep's lead history", "/communications/lead/{lead_other}", expect(rep=404)),
    ("rep's opportunity communications", "/communications/opportunity/{opp_rep}", expect(other_rep=404)),
    ("other rep's opportunity communications", "/communications/opportunity/{opp_other}", expect(rep=404)),
    ("pending follow-ups", "/communications/follow-ups/pending", expect()),
    ("engagement", "/communications/analytics/engagement", expect()),
    ("segments list", "/segments", expect()),
    ("segment detail", "/segments/{segment}", expect()),
    ("segment members", "/segments/{segment}/customers", expect()),
    ("segment matches", "/segments/{segment}/matching-customers", expect()),
    ("segment performance", "/segments/{segment}/performance", expect()),
]


@pytest.mark.parametrize(("name", "path", "statuses"), READS, ids=[case[0] for case in READS])
def test_reads(world, clients, name, path, statuses):
    url = CRM + path.format(**world.ids())
    got = {persona: clients[persona].get(url).status_code for persona in PERSONAS}
    assert got == statuses


def test_auth_endpoints_by_persona(clients):
    me = {persona: clients[persona].get("/api/v1/auth/me").status_code for persona in PERSONAS}
    users = {persona: clients[persona].get("/api/v1/users").status_code for persona in PERSONAS}
    assert me == expect(no_role=200)
    assert users == expect()


# --- what each list contains ---------------------------------------------------------------------

LISTS = {
    "/leads": {
        "manager": {"lead_rep", "lead_other", "lead_free"},
        "rep": {"lead_rep", "lead_free"},
        "other_rep": {"lead_other", "lead_free"},
    },
    "/leads/follow-ups/today": {
        "manager": {"lead_rep", "lead_other", "lead_free"},
        "rep": {"lead_rep", "lead_free"},
        "other_rep": {"lead_other", "lead_free"},
    },
    "/opportunities": {"manager": {"opp_rep", "opp_other"}, "rep": {"opp_rep"}, "other_rep": {"opp_other"}},
    "/communications": {
        "manager": {"comm_rep", "comm_other", "comm_on_rep_lead", "comm_on_rep_opp"},
        "rep": {"comm_rep", "comm_on_rep_lead", "comm_on_rep_opp"},
        "other_rep": {"comm_other", "comm_on_rep_lead", "comm_on_rep_opp"},
    },
    "/communications/customer/{customer}": {
        "manager": {"comm_rep", "comm_other", "comm_on_rep_opp"},
        "rep": {"comm_rep", "comm_on_rep_opp"},
        "other_rep": {"comm_other", "comm_on_rep_opp"},
    },
    "/communications/follow-ups/pending": {
        "manager": {"comm_rep", "comm_other"},
        "rep": {"comm_rep"},
        "other_rep": {"comm_other"},
    },
    "/customers": {persona: {"customer"} for persona in ("manager", "rep", "other_rep")},
    "/segments": {persona: {"segment"} for persona in ("manager", "rep", "other_rep")},
    "/quotas": {"manager": {"quota_rep"}, "rep": {"quota_rep"}, "other_rep": set()},
}


@pytest.mark.parametrize("path", list(LISTS))
def test_each_list_holds_exactly_what_the_persona_may_see(world, clients, path):
    names_by_id = {value: name for name, value in world.ids().items()}
    for persona, expected in LISTS[path].items():
        body = clients[persona].get(CRM + path.format(**world.ids())).json()
        assert {names_by_id[row["id"]] for row in body["results"]} == expected, persona
        assert body["count"] == len(expected), persona


def test_analytics_count_only_what_the_persona_may_see(world, clients):
    def figures(persona):
        client = clients[persona]
        return (
            client.get(f"{CRM}/leads/analytics/summary").json()["total_leads"],
            client.get(f"{CRM}/opportunities/pipeline/stats").json()["total_opportunities"],
            client.get(f"{CRM}/communications/analytics/engagement").json()["total"],
        )

    assert figures("manager") == (3, 2, 4)
    assert figures("rep") == (2, 1, 3)
    assert figures("other_rep") == (2, 1, 3)


def test_forecast_velocity_and_cohorts_count_only_what_the_persona_may_see(world, clients):
    def figures(persona):
        client = clients[persona]
        forecast = client.get(f"{CRM}/opportunities/forecast", {"start": "2026-01", "end": "2026-01"}).json()
        velocity = client.get(f"{CRM}/opportunities/analytics/velocity").json()
        cohorts = client.get(f"{CRM}/leads/analytics/cohorts").json()
        return (
            forecast["totals"]["quota"],
            sum(stage["entered"] for stage in velocity["stages"]),
            sum(cohort["created"] for cohort in cohorts),
        )

    # The factories write no stage history: one creation row per opportunity.
    for opportunity in (world.opp_rep, world.opp_other):
        OpportunityStageChangeFactory(opportunity=opportunity, changed_at=opportunity.created_at)
    assert figures("manager") == (1000.0, 2, 3)
    assert figures("rep") == (1000.0, 1, 2)
    assert figures("other_rep") == (None, 1, 2)


def test_segment_performance_counts_only_the_reps_opportunities(world, clients):
    world.segment.customers.add(world.customer)
    by_persona = {
        persona: clients[persona].get(f"{CRM}/segments/{world.segment.pk}/performance").json()
        for persona in ("manager", "rep")
    }
    assert by_persona["manager"]["opportunities"]["open_count"] == 2
    assert by_persona["rep"]["opportunities"]["open_count"] == 1


# --- writes -----------------------------------------------------------------------------------------


def _lead_body(**extra):
    return {"company_name": "New Co", "contact_person": "Asha", "email": "asha@newco.example", **extra}


WRITES = [
    # (name, method, path, body (a function of the world's users), statuses)
    ("create a lead", "post", "/leads", lambda u: _lead_body(), expect(201, 201, 201)),
    (
        "create a lead for the other rep",
        "post",
        "/leads",
        lambda u: _lead_body(assigned_to_id=u["other_rep"]),
        expect(201, 403, 201),
    ),
    ("update rep's lead", "patch", "/leads/{lead_rep}", lambda u: {"city": "Pune"}, expect(other_rep=404)),
    (
        "hand rep's lead to the other rep",
        "patch",
        "/leads/{lead_rep}",
        lambda u: {"assigned_to_id": u["other_rep"]},
        expect(rep=403, other_rep=404),
    ),
    # Communications refer to the rep's lead and opportunity: deleting them is refused (409).
    ("delete rep's lead", "delete", "/leads/{lead_rep}", None, expect(409, 403, 404)),
    ("delete the unassigned lead", "delete", "/leads/{lead_free}", None, expect(204, 403, 403)),
    (
        "qualify the other rep's lead",
        "post",
        "/leads/{lead_other}/qualify",
        lambda u: {"qualification_score": 80},
        expect(rep=404),
    ),
    ("convert the other rep's lead", "post", "/leads/{lead_other}/convert", lambda u: {}, expect(rep=404)),
    ("check a lead for duplicates", "post", "/leads/check-duplicates", lambda u: _lead_body(), expect()),
    (
        "check a customer for duplicates",
        "post",
        "/customers/check-duplicates",
        lambda u: {"company_name": "Shared Customer"},
        expect(),
    ),
    (
        "create an opportunity",
        "post",
        "/opportunities",
        lambda u: {"name": "Deal", "customer_id": u["customer"], "estimated_value": 100},
        expect(201, 201, 201),
    ),
    (
        "create an opportunity owned by the other rep",
        "post",
        "/opportunities",
        lambda u: {"name": "Deal", "customer_id": u["customer"], "estimated_value": 100, "owner_id": u["other_rep"]},
        expect(201, 403, 201),
    ),
    (
        "update rep's opportunity",
        "patch",
        "/opportunities/{opp_rep}",
        lambda u: {"probability": 50},
        expect(other_rep=404),
    ),
    (
        "hand rep's opportunity to the other rep",
        "patch",
        "/opportunities/{opp_rep}",
        lambda u: {"owner_id": u["other_rep"]},
        expect(rep=403, other_rep=404),
    ),
    (
        "close the other rep's opportunity",
        "post",
        "/opportunities/{opp_other}/close",
        lambda u: {"stage": "closed_won"},
        expect(rep=404),
    ),
    ("delete rep's opportunity", "delete", "/opportunities/{opp_rep}", None, expect(409, 403, 404)),
    ("delete the other rep's opportunity", "delete", "/opportunities/{opp_other}", None, expect(204, 404, 403)),
    (
        "log a communication",
        "post",
        "/communications",
        lambda u: {"customer_id": u["customer"], "subject": "Call"},
        expect(201, 201, 201),
    ),
    (
        "log a communication as the other rep",
        "post",
        "/communications",
        lambda u: {"customer_id": u["customer"], "subject": "Call", "our_representative_id": u["other_rep"]},
        expect(201, 403, 201),
    ),
    (
        "log a call about the other rep's lead",
        "post",
        "/communications",
        lambda u: {"lead_id": u["lead_other"], "subject": "Call"},
        expect(201, 400, 201),
    ),
    (
        "complete the other rep's follow-up",
        "post",
        "/communications/{comm_other}/complete-follow-up",
        lambda u: {},
        expect(rep=404),
    ),
    (
        "update the other rep's communication",
        "patch",
        "/communications/{comm_other}",
        lambda u: {"content": "x"},
        expect(rep=404),
    ),
    ("create a customer", "post", "/customers", lambda u: {"company_name": "Acme"}, expect(201, 201, 201)),
    ("update a customer", "patch", "/customers/{customer}", lambda u: {"city": "Goa"}, expect()),
    ("delete a customer", "delete", "/customers/{customer}", None, expect(409, 403, 403)),
    ("create a segment", "post", "/segments", lambda u: {"name": "New", "code": "NEW"}, expect(201, 403, 403)),
    ("update a segment", "patch", "/segments/{segment}", lambda u: {"name": "Renamed"}, expect(200, 403, 403)),
    ("delete a segment", "delete", "/segments/{segment}", None, expect(204, 403, 403)),
    (
        "assign customers to a segment",
        "post",
        "/segments/{segment}/assign-customers",
        lambda u: {"customer_ids": [u["customer"]]},
        expect(200, 403, 403),
    ),
    (
        "remove customers from a segment",
        "post",
        "/segments/{segment}/remove-customers",
        lambda u: [u["customer"]],
        expect(200, 403, 403),
    ),
    ("apply a segment's criteria", "post", "/segments/{segment}/apply-criteria", lambda u: {}, expect(409, 403, 403)),
    (
        "set a quota",
        "post",
        "/quotas",
        lambda u: {"user_id": u["other_rep"], "period_start": "2026-02-01", "amount": 10},
        expect(201, 403, 403),
    ),
    ("change rep's quota", "patch", "/quotas/{quota_rep}", lambda u: {"amount": 5}, expect(200, 403, 404)),
    ("delete rep's quota", "delete", "/quotas/{quota_rep}", None, expect(204, 403, 404)),
]


@pytest.mark.parametrize(("name", "method", "path", "body", "statuses"), WRITES, ids=[case[0] for case in WRITES])
@pytest.mark.parametrize("persona", PERSONAS)
def test_writes(world, clients, rep, other_rep, name, method, path, body, statuses, persona):
    users = {**world.ids(), "rep": rep.pk, "other_rep": other_rep.pk}
    url = CRM + path.format(**world.ids())
    kwargs = {"format": "json"} if body is not None else {}
    payload = body(users) if body is not None else None
    response = getattr(clients[persona], method)(url, payload, **kwargs)
    assert response.status_code == statuses[persona], response.content


def test_refused_writes_change_nothing(world, clients, other_rep):
    rep_client = clients["rep"]
    rep_client.patch(f"{CRM}/leads/{world.lead_rep.pk}", {"assigned_to_id": other_rep.pk}, format="json")
    rep_client.patch(f"{CRM}/opportunities/{world.opp_other.pk}", {"probability": 99}, format="json")
    rep_client.delete(f"{CRM}/leads/{world.lead_rep.pk}")
    rep_client.post(f"{CRM}/segments", {"name": "X", "code": "X"}, format="json")

    world.lead_rep.refresh_from_db()
    world.opp_other.refresh_from_db()
    assert world.lead_rep.assigned_to_id != other_rep.pk
    assert world.opp_other.probability != 99
    assert Lead.objects.filter(pk=world.lead_rep.pk).exists()
    assert not Segment.objects.filter(code="X").exists()


def test_no_body_field_raises_rights_or_writes_read_only_fields(world, clients, rep):
    rep_client = clients["rep"]
    lead = rep_client.patch(
        f"{CRM}/leads/{world.lead_rep.pk}",
        {
            "is_superuser": True,
            "is_staff": True,
            "role": "sales_manager",
            "groups": ["sales_manager"],
            "status": "converted",
            "converted_customer_id": str(world.customer.pk),
            "lead_number": "LEAD-X",
            "created_by_id": rep.pk,
            "qualified_at": "2020-01-01T00:00:00Z",
        },
        format="json",
    )
    assert lead.status_code == 400  # status "converted" is only set by convert
    rep.refresh_from_db()
    assert not rep.is_superuser
    assert not rep.groups.filter(name="sales_manager").exists()
    world.lead_rep.refresh_from_db()
    assert world.lead_rep.lead_number != "LEAD-X" and world.lead_rep.converted_customer_id is None

    opportunity = rep_client.patch(
        f"{CRM}/opportunities/{world.opp_rep.pk}",
        {"expected_revenue": 1, "opportunity_number": "OPP-X", "is_won": True, "actual_close_date": "2020-01-01"},
        format="json",
    )
    assert opportunity.status_code == 200
    world.opp_rep.refresh_from_db()
    assert world.opp_rep.opportunity_number != "OPP-X" and not world.opp_rep.is_closed
    assert world.opp_rep.actual_close_date is None

    comm = rep_client.patch(
        f"{CRM}/communications/{world.comm_rep.pk}", {"follow_up_completed": True, "created_by_id": 1}, format="json"
    )
    assert comm.status_code == 200
    world.comm_rep.refresh_from_db()
    assert not world.comm_rep.follow_up_completed
    assert get_user_model().objects.get(pk=rep.pk).is_superuser is False


def test_another_reps_record_answers_exactly_like_a_missing_one(world, clients):
    """A rep's 404 for another rep's record is the same as for a record that does not exist."""
    missing = "00000000-0000-0000-0000-000000000000"
    for resource, hidden in (
        ("leads", world.lead_other),
        ("opportunities", world.opp_other),
        ("communications", world.comm_other),
    ):
        hidden_answer = clients["rep"].get(f"{CRM}/{resource}/{hidden.pk}")
        missing_answer = clients["rep"].get(f"{CRM}/{resource}/{missing}")
        assert (hidden_answer.status_code, hidden_answer.json()) == (missing_answer.status_code, missing_answer.json())
    assert Communication.objects.count() == 4 and Opportunity.objects.count() == 2


# --- the admin follows the same rules -------------------------------------------------------------

ADMIN_CHANGELISTS = {
    "/admin/leads/lead/": {"rep": {"lead_rep", "lead_free"}, "manager": {"lead_rep", "lead_other", "lead_free"}},
    "/admin/opportunities/opportunity/": {"rep": {"opp_rep"}, "manager": {"opp_rep", "opp_other"}},
    "/admin/communications/communication/": {
        "rep": {"comm_rep", "comm_on_rep_lead", "comm_on_rep_opp"},
        "manager": {"comm_rep", "comm_other", "comm_on_rep_lead", "comm_on_rep_opp"},
    },
}


@pytest.fixture
def admin_clients(manager, rep) -> dict:
    from django.test import Client

    clients = {}
    for persona, user in (("manager", manager), ("rep", rep)):
        clients[persona] = Client()
        clients[persona].force_login(user)
    return clients


@pytest.mark.parametrize("path", list(ADMIN_CHANGELISTS))
def test_admin_changelists_hold_what_the_api_would_show(world, admin_clients, path):
    for persona, expected in ADMIN_CHANGELISTS[path].items():
        response = admin_clients[persona].get(path)
        assert response.status_code == 200
        shown = {str(obj.pk) for obj in response.context["cl"].result_list}
        assert shown == {world.ids()[name] for name in expected}, persona


@pytest.mark.parametrize(
    "path",
    [
        "/admin/leads/lead/{lead_other}/change/",
        "/admin/opportunities/opportunity/{opp_other}/change/",
        "/admin/communications/communication/{comm_other}/change/",
    ],
)
def test_another_reps_record_is_as_missing_in_the_admin(world, admin_clients, path):
    hidden = admin_clients["rep"].get(path.format(**world.ids()))
    missing = admin_clients["rep"].get(
        path.format(**dict.fromkeys(world.ids(), "00000000-0000-0000-0000-000000000000"))
    )
    assert hidden.status_code == missing.status_code == 302
    assert hidden.url == missing.url
    assert admin_clients["manager"].get(path.format(**world.ids())).status_code == 200


def test_admin_autocomplete_offers_a_rep_only_visible_leads(world, admin_clients):
    response = admin_clients["rep"].get(
        "/admin/autocomplete/",
        {"app_label": "communications", "model_name": "communication", "field_name": "lead", "term": ""},
    )
    assert response.status_code == 200
    offered = {row["id"] for row in response.json()["results"]}
    assert offered == {world.ids()["lead_rep"], world.ids()["lead_free"]}


def test_a_rep_changes_segments_nowhere_in_the_admin(world, admin_clients):
    assert admin_clients["rep"].get("/admin/segments/segment/add/").status_code == 403
    assert (
        admin_clients["rep"].post(f"/admin/segments/segment/{world.segment.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
