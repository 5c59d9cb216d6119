"""``/api/v1/crm/opportunities`` through real URLs: the API guide's examples, shapes, rules, access."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from communications.models import Communication
from customers.tests.factories import CustomerFactory
from opportunities.models import Opportunity, OpportunityStage

from .factories import LeadFactory, OpportunityFactory, OpportunityStageChangeFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/crm/opportunities"
STATS_URL = f"{LIST_URL}/pipeline/stats"

OUTPUT_FIELDS = {
    "id",
    "opportunity_number",
    "name",
    "description",
    "customer_id",
    "customer_name",
    "owner_id",
    "lead_id",
    "estimated_value",
    "probability",
    "expected_revenue",
    "expected_close_date",
    "actual_close_date",
    "stage",
    "forecast_category",
    "next_step",
    "next_step_date",
    "products_interested",
    "loss_reason",
    "notes",
    "is_closed",
    "is_won",
    "created_at",
    "updated_at",
}


def detail_url(opportunity) -> str:
    return f"{LIST_URL}/{opportunity.pk}"


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# --- the API guide's examples, exactly as written --------------------------------------------------


def test_seed_create_example(manager_client, manager):
    customer = CustomerFactory()
    lead = LeadFactory()
    response = manager_client.post(
        LIST_URL,
        {
            "name": "Q4 Winter Collection Order",
            "description": "Bulk order for winter garments",
            "customer_id": str(customer.pk),
            "owner_id": manager.pk,
            "lead_id": str(lead.pk),
            "estimated_value": 150000.00,
            "probability": 70,
            "expected_close_date": "2025-12-31T00:00:00Z",
            "stage": "proposal",
            "products_interested": {"categories": ["Jackets", "Sweaters"], "quantity": 500},
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == OUTPUT_FIELDS
    today = timezone.localdate().strftime("%Y%m%d")
    assert body["opportunity_number"] == f"OPP-{today}-0001"
    assert body["expected_revenue"] == 105000.0
    assert body["estimated_value"] == 150000.0
    assert (body["customer_id"], body["customer_name"]) == (str(customer.pk), customer.company_name)
    assert (body["owner_id"], body["lead_id"]) == (manager.pk, str(lead.pk))
    assert body["expected_close_date"] == "2025-12-31T00:00:00Z"
    assert body["products_interested"] == {"categories": ["Jackets", "Sweaters"], "quantity": 500}
    assert (body["stage"], body["is_closed"], body["is_won"], body["actual_close_date"]) == (
        "proposal",
        False,
        False,
        None,
    )
    assert response["ETag"]


def test_seed_put_example_with_four_fields(manager_client):
    opportunity = OpportunityFactory(stage="proposal", probability=70, estimated_value=Decimal("150000"))
    response = manager_client.put(
        detail_url(opportunity),
        {
            "stage": "negotiation",
            "probability": 85,
            "next_step": "Send final proposal with pricing",
            "next_step_date": "2025-12-20T00:00:00Z",
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["stage"], body["probability"], body["expected_revenue"]) == ("negotiation", 85, 127500.0)
    assert body["next_step"] == "Send final proposal with pricing"
    assert body["next_step_date"] == "2025-12-20T00:00:00Z"
    assert body["name"] == opportunity.name  # untouched by a partial PUT


def test_seed_close_won_example(manager_client):
    opportunity = OpportunityFactory(estimated_value=Decimal("150000"), probability=85, stage="negotiation")
    response = manager_client.post(
        f"{detail_url(opportunity)}/close",
        {"stage": "closed_won", "actual_close_date": "2025-12-15T10:30:00Z", "notes": "Deal closed - PO received"},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["stage"], body["probability"], body["expected_revenue"]) == ("closed_won", 100, 150000.0)
    assert (body["is_closed"], body["is_won"]) == (True, True)
    assert body["actual_close_date"] == "2025-12-15T10:30:00Z"
    assert body["notes"].endswith("Deal closed - PO received")


def test_seed_close_lost_example(manager_client):
    opportunity = OpportunityFactory(estimated_value=Decimal("150000"), probability=85)
    response = manager_client.post(
        f"{detail_url(opportunity)}/close",
        {
            "stage": "closed_lost",
            "actual_close_date": "2025-12-15T10:30:00Z",
            "loss_reason": "Competitor had lower pricing",
            "notes": "Customer chose competitor",
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["stage"], body["probability"], body["expected_revenue"]) == ("closed_lost", 0, 0.0)
    assert (body["is_closed"], body["is_won"]) == (True, False)
    assert body["loss_reason"] == "Competitor had lower pricing"
    assert body["notes"].endswith("Customer chose competitor")


def test_seed_search_example(manager_client):
    wanted = OpportunityFactory(name="Q4 Winter Collection Order", stage="negotiation", estimated_value=150000)
    OpportunityFactory(name="Winter small", stage="negotiation", estimated_value=10000)
    OpportunityFactory(name="Winter proposal", stage="proposal", estimated_value=150000)
    OpportunityFactory(name="Summer", stage="negotiation", estimated_value=150000)
    response = manager_client.get(f"{LIST_URL}?search=winter&stage=negotiation&min_value=50000&max_value=200000")
    assert ids(response) == [str(wanted.pk)]


def test_seed_pipeline_stats_example(manager_client, manager, rep):
    OpportunityFactory(owner=manager, stage="proposal", estimated_value=Decimal("150000"), probability=70)
    OpportunityFactory(owner=manager, won=True, estimated_value=Decimal("50000"))
    OpportunityFactory(owner=rep, lost=True, estimated_value=Decimal("999"))

    response = manager_client.get(f"{STATS_URL}?owner_id={manager.pk}")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "total_opportunities": 2,
        "open_opportunities": 1,
        "total_pipeline_value": 150000.0,
        "weighted_pipeline_value": 105000.0,
        "won_value": 50000.0,
        "win_rate": 100.0,
        "by_stage": {
            "prospecting": {"count": 0, "total_value": 0.0, "weighted_value": 0.0},
            "qualification": {"count": 0, "total_value": 0.0, "weighted_value": 0.0},
            "needs_analysis": {"count": 0, "total_value": 0.0, "weighted_value": 0.0},
            "proposal": {"count": 1, "total_value": 150000.0, "weighted_value": 105000.0},
            "negotiation": {"count": 0, "total_value": 0.0, "weighted_value": 0.0},
            "closed_won": {"count": 1, "total_value": 50000.0, "weighted_value": 50000.0},
            "closed_lost": {"count": 0, "total_value": 0.0, "weighted_value": 0.0},
        },
    }


# --- create and update ----------------------------------------------------------------------


def test_create_with_only_the_required_fields(rep_client, rep):
    response = rep_client.post(
        LIST_URL + "/",
        {"name": "Small order", "customer_id": str(CustomerFactory().pk), "estimated_value": "2500.50"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["owner_id"], body["stage"], body["probability"], body["expected_revenue"]) == (
        rep.pk,
        "prospecting",
        10,
        250.05,
    )
    assert body["products_interested"] == {}
    assert body["lead_id"] is None


@pytest.mark.parametrize("field", ["name", "customer_id", "estimated_value"])
def test_create_requires_name_customer_and_value(manager_client, field):
    body = {"name": "Deal", "customer_id": str(CustomerFactory().pk), "estimated_value": 10}
    del body[field]
    response = manager_client.post(LIST_URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("probability", 101),
        ("probability", -1),
        ("probability", 50.5),
        ("probability", "high"),
        ("estimated_value", -1),
        ("estimated_value", "abc"),
        ("estimated_value", "1e30"),
        ("estimated_value", "NaN"),
        ("stage", "won"),
        ("customer_id", "not-a-uuid"),
        ("customer_id", "00000000-0000-0000-0000-000000000000"),
        ("lead_id", "00000000-0000-0000-0000-000000000000"),
        ("owner_id", 999999),
        ("owner_id", "me"),
        ("expected_close_date", "next week"),
        ("expected_close_date", "2025-13-45"),
        ("expected_close_date", "0001-01-01T00:00:00+05:30"),
        ("next_step_date", 12),
        ("products_interested", "Jackets"),
        ("products_interested", None),
        ("name", ""),
        ("name", "x" * 201),
    ],
)
def test_create_rejects_invalid_values_naming_the_field(manager_client, field, value):
    body = {"name": "Deal", "customer_id": str(CustomerFactory().pk), "estimated_value": 10, field: value}
    response = manager_client.post(LIST_URL, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Opportunity.objects.exists()


@pytest.mark.parametrize("stage", ["closed_won", "closed_lost"])
def test_create_with_a_closed_stage_is_400_pointing_to_close(manager_client, stage):
    body = {"name": "Deal", "customer_id": str(CustomerFactory().pk), "estimated_value": 10, "stage": stage}
    response = manager_client.post(LIST_URL, body, format="json")
    assert response.status_code == 400
    assert "close" in response.json()["stage"][0]


def test_a_plain_date_is_midnight_in_the_time_zone(manager_client, settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    body = {
        "name": "Deal",
        "customer_id": str(CustomerFactory().pk),
        "estimated_value": 10,
        "expected_close_date": "2025-12-31",
    }
    response = manager_client.post(LIST_URL, body, format="json")
    assert response.status_code == 201, response.content
    stored = Opportunity.objects.get().expected_close_date
    assert stored == dt.datetime(2025, 12, 30, 18, 30, tzinfo=dt.UTC)


def test_read_only_fields_in_the_body_are_ignored(manager_client):
    response = manager_client.post(
        LIST_URL,
        {
            "name": "Deal",
            "customer_id": str(CustomerFactory().pk),
            "estimated_value": 100,
            "probability": 50,
            "id": "00000000-0000-0000-0000-000000000000",
            "opportunity_number": "OPP-19990101-9999",
            "expected_revenue": 999999,
            "actual_close_date": "2020-01-01T00:00:00Z",
            "loss_reason": "Sneaky",
            "is_closed": True,
            "is_won": True,
            "customer_name": "Other",
            "created_at": "2020-01-01T00:00:00Z",
        },
        format="json",
    )
    body = response.json()
    assert response.status_code == 201
    assert body["id"] != "00000000-0000-0000-0000-000000000000"
    assert body["opportunity_number"] != "OPP-19990101-9999"
    assert (body["expected_revenue"], body["actual_close_date"], body["loss_reason"]) == (50.0, None, "")
    assert (body["is_closed"], body["is_won"]) == (False, False)
    assert not body["created_at"].startswith("2020")


def test_put_and_patch_both_accept_a_partial_body(manager_client):
    opportunity = OpportunityFactory(name="Old", next_step="")
    assert manager_client.put(detail_url(opportunity), {"name": "New"}, format="json").status_code == 200
    assert manager_client.patch(detail_url(opportunity) + "/", {"next_step": "Call"}, format="json").status_code == 200
    opportunity.refresh_from_db()
    assert (opportunity.name, opportunity.next_step) == ("New", "Call")


def test_update_recomputes_expected_revenue(manager_client):
    opportunity = OpportunityFactory(estimated_value=Decimal("1000"), probability=10)
    body = manager_client.patch(detail_url(opportunity), {"estimated_value": "2000"}, format="json").json()
    assert body["expected_revenue"] == 200.0


@pytest.mark.parametrize("stage", ["closed_won", "closed_lost"])
def test_update_to_a_closed_stage_is_400_pointing_to_close(manager_client, stage):
    opportunity = OpportunityFactory()
    response = manager_client.patch(detail_url(opportunity), {"stage": stage, "loss_reason": "x"}, format="json")
    assert response.status_code == 400
    assert "close" in response.json()["stage"][0]


@pytest.mark.parametrize("method", ["put", "patch"])
def test_updating_a_closed_opportunity_is_409(manager_client, method):
    opportunity = OpportunityFactory(won=True, name="Done")
    response = getattr(manager_client, method)(detail_url(opportunity), {"name": "Changed"}, format="json")
    assert response.status_code == 409
    assert "closed" in response.json()["detail"]
    opportunity.refresh_from_db()
    assert opportunity.name == "Done"


def test_update_advances_the_etag_and_a_stale_if_match_is_412(manager_client):
    opportunity = OpportunityFactory(updated_at=timezone.now() - dt.timedelta(minutes=5))
    etag = manager_client.get(detail_url(opportunity))["ETag"]
    first = manager_client.patch(detail_url(opportunity), {"name": "A"}, format="json", HTTP_IF_MATCH=etag)
    assert first.status_code == 200 and first["ETag"] != etag
    second = manager_client.patch(detail_url(opportunity), {"name": "B"}, format="json", HTTP_IF_MATCH=etag)
    assert second.status_code == 412
    opportunity.refresh_from_db()
    assert opportunity.name == "A"


def test_a_body_that_is_not_an_object_is_400(manager_client):
    assert manager_client.post(LIST_URL, [1, 2], format="json").status_code == 400
    response = manager_client.post(LIST_URL, data=b"{not json", content_type="application/json")
    assert response.status_code == 400


# --- close ------------------------------------------------------------------------------------


def test_close_lost_without_a_loss_reason_is_400(manager_client):
    opportunity = OpportunityFactory()
    for body in ({"stage": "closed_lost"}, {"stage": "closed_lost", "loss_reason": "   "}):
        response = manager_client.post(f"{detail_url(opportunity)}/close", body, format="json")
        assert response.status_code == 400
        assert "loss_reason" in response.json()
    opportunity.refresh_from_db()
    assert not opportunity.is_closed


@pytest.mark.parametrize("body", [{}, {"stage": "negotiation"}, {"stage": "won"}, {"stage": None}])
def test_close_needs_closed_won_or_closed_lost(manager_client, body):
    response = manager_client.post(f"{detail_url(OpportunityFactory())}/close", body, format="json")
    assert response.status_code == 400
    assert "stage" in response.json()


def test_close_without_a_date_closes_now(manager_client):
    before = timezone.now()
    body = manager_client.post(
        f"{detail_url(OpportunityFactory())}/close/", {"stage": "closed_won"}, format="json"
    ).json()
    assert dt.datetime.fromisoformat(body["actual_close_date"]) >= before.replace(microsecond=0)


def test_closing_twice_is_409(manager_client):
    opportunity = OpportunityFactory()
    url = f"{detail_url(opportunity)}/close"
    assert manager_client.post(url, {"stage": "closed_won"}, format="json").status_code == 200
    response = manager_client.post(url, {"stage": "closed_lost", "loss_reason": "Changed mind"}, format="json")
    assert response.status_code == 409
    opportunity.refresh_from_db()
    assert opportunity.stage == "closed_won"


def test_close_with_a_stale_if_match_is_412(manager_client):
    opportunity = OpportunityFactory()
    response = manager_client.post(
        f"{detail_url(opportunity)}/close", {"stage": "closed_won"}, format="json", HTTP_IF_MATCH='"old"'
    )
    assert response.status_code == 412


# --- history ----------------------------------------------------------------------------------


def test_history_lists_creation_stage_changes_and_closing_oldest_first(rep_client, rep):
    created = rep_client.post(
        LIST_URL, {"name": "Deal", "customer_id": str(CustomerFactory().pk), "estimated_value": 100}, format="json"
    ).json()
    url = f"{LIST_URL}/{created['id']}"
    rep_client.patch(url, {"stage": "proposal", "probability": 60}, format="json")
    rep_client.post(f"{url}/close", {"stage": "closed_won", "notes": "PO received"}, format="json")

    response = rep_client.get(f"{url}/stage-history")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 3
    rows = body["results"]
    assert [(row["from_stage"], row["to_stage"], row["probability"]) for row in rows] == [
        (None, "prospecting", 10),
        ("prospecting", "proposal", 60),
        ("proposal", "closed_won", 100),
    ]
    assert set(rows[0]) == {
        "id",
        "from_stage",
        "to_stage",
        "changed_by_id",
        "changed_by_name",
        "changed_at",
        "estimated_value",
        "probability",
        "notes",
    }
    assert rows[2]["changed_by_id"] == rep.pk and rows[2]["notes"] == "PO received"
    assert rows[2]["estimated_value"] == 100.0


def test_history_is_paginated(manager_client):
    opportunity = OpportunityFactory()
    OpportunityStageChangeFactory.create_batch(3, opportunity=opportunity)
    body = manager_client.get(f"{detail_url(opportunity)}/stage-history/?page_size=2&page=2").json()
    assert (body["count"], body["page"], body["total_pages"], len(body["results"])) == (3, 2, 2, 1)


def test_history_ignores_the_lists_filters(manager_client):
    opportunity = OpportunityFactory()
    OpportunityStageChangeFactory(opportunity=opportunity)
    assert manager_client.get(f"{detail_url(opportunity)}/stage-history?stage=closed_won").json()["count"] == 1


# --- list: filters, search, ordering, budget -------------------------------------------------


def test_every_filter(manager_client, manager, rep):
    customer = CustomerFactory(company_name="Sunrise Apparel")
    lead = LeadFactory()
    wanted = OpportunityFactory(
        name="Jackets",
        description="Thermal line",
        customer=customer,
        lead=lead,
        owner=rep,
        stage="negotiation",
        estimated_value=Decimal("5000"),
        expected_close_date=dt.datetime(2025, 12, 31, 15, tzinfo=dt.UTC),
    )
    OpportunityFactory(
        name="Other",
        owner=manager,
        won=True,
        estimated_value=Decimal("50"),
        expected_close_date=dt.datetime(2025, 6, 1, tzinfo=dt.UTC),
    )
    for query in [
        "search=jack",
        "search=THERMAL",
        "search=sunrise",
        f"search={wanted.opportunity_number.lower()}",
        "stage=negotiation",
        f"owner_id={rep.pk}",
        f"customer_id={customer.pk}",
        f"lead_id={lead.pk}",
        "is_closed=false",
        "min_value=5000",
        "min_value=100&max_value=5000.00",
        "close_after=2025-12-31",
        "close_after=2025-12-31T15:00:00Z",
        "close_before=2025-12-31&close_after=2025-07-01",
        "close_before=2025-12-31T15:00:00Z&close_after=2025-12-31T15:00:00Z",
    ]:
        assert ids(manager_client.get(f"{LIST_URL}?{query}")) == [str(wanted.pk)], query
    assert len(ids(manager_client.get(f"{LIST_URL}?is_closed=true"))) == 1
    assert len(ids(manager_client.get(f"{LIST_URL}?max_value=4999.99"))) == 1
    assert ids(manager_client.get(f"{LIST_URL}?close_before=2025-12-31T14:59:59Z&close_after=2025-07-01")) == []


def test_a_blank_search_lists_everything(manager_client):
    OpportunityFactory.create_batch(2)
    assert len(ids(manager_client.get(f"{LIST_URL}?search=%20"))) == 2


@pytest.mark.parametrize(
    "query",
    [
        "stage=bogus",
        "owner_id=abc",
        "owner_id=1.5",
        "owner_id=0",
        "owner_id=99999999999999999999",
        "customer_id=not-a-uuid",
        "lead_id=123",
        "is_closed=maybe",
        "min_value=abc",
        "min_value=NaN",
        "max_value=1e30",
        "close_after=yesterday",
        "close_before=2025-02-30",
        "ordering=password",
        "ordering=customer__company_name",
        "page=0",
        "page_size=abc",
        "search=%00",
    ],
)
def test_bad_filter_values_are_400_naming_the_parameter(manager_client, query):
    response = manager_client.get(f"{LIST_URL}?{query}")
    assert response.status_code == 400, response.content
    assert query.split("=")[0] in response.json()


def test_min_value_above_max_value_is_400(manager_client):
    response = manager_client.get(f"{LIST_URL}?min_value=200000&max_value=50000")
    assert response.status_code == 400
    assert "max_value" in response.json()


def test_close_after_later_than_close_before_is_400(manager_client):
    response = manager_client.get(f"{LIST_URL}?close_after=2025-12-31&close_before=2025-01-01")
    assert response.status_code == 400
    assert "close_before" in response.json()


def test_a_page_past_the_end_is_404(manager_client):
    OpportunityFactory()
    assert manager_client.get(f"{LIST_URL}?page=2").status_code == 404


def test_default_order_is_newest_first(manager_client):
    old = OpportunityFactory(created_at=timezone.now() - dt.timedelta(days=1))
    new = OpportunityFactory()
    assert ids(manager_client.get(LIST_URL)) == [str(new.pk), str(old.pk)]


@pytest.mark.parametrize(
    "field",
    [
        "created_at",
        "updated_at",
        "opportunity_number",
        "name",
        "estimated_value",
        "probability",
        "expected_revenue",
        "expected_close_date",
        "actual_close_date",
    ],
)
def test_ordering_on_each_field(manager_client, field):
    now = timezone.now()
    low = OpportunityFactory(
        won=True,
        opportunity_number="OPP-20000101-0001",
        name="A",
        estimated_value=Decimal("1"),
        probability=100,
        expected_close_date=now,
        created_at=now - dt.timedelta(days=2),
        updated_at=now - dt.timedelta(days=2),
        actual_close_date=now - dt.timedelta(days=1),
    )
    high = OpportunityFactory(
        won=True,
        opportunity_number="OPP-20000101-0002",
        name="B",
        estimated_value=Decimal("2"),
        expected_close_date=now + dt.timedelta(days=1),
        actual_close_date=now,
    )
    Opportunity.objects.filter(pk=low.pk).update(probability=10, expected_revenue=Decimal("0.10"))
    assert ids(manager_client.get(f"{LIST_URL}?ordering={field}")) == [str(low.pk), str(high.pk)]
    assert ids(manager_client.get(f"{LIST_URL}?ordering=-{field}")) == [str(high.pk), str(low.pk)]


def test_list_query_count_does_not_grow_with_page_size(manager_client, django_assert_max_num_queries):
    OpportunityFactory.create_batch(5, lead=LeadFactory())
    # The user with their role, the rate counter, the count, the page.
    with django_assert_max_num_queries(4) as small:
        assert len(manager_client.get(LIST_URL, {"page_size": 5}).json()["results"]) == 5
    OpportunityFactory.create_batch(45)
    with django_assert_max_num_queries(4) as large:
        assert len(manager_client.get(LIST_URL).json()["results"]) == 50
    assert len(large.captured_queries) == len(small.captured_queries)


def test_history_query_count_does_not_grow(manager_client, manager, django_assert_max_num_queries):
    opportunity = OpportunityFactory()
    OpportunityStageChangeFactory.create_batch(3, opportunity=opportunity, changed_by=manager)
    with django_assert_max_num_queries(4) as small:
        manager_client.get(f"{detail_url(opportunity)}/stage-history")
    OpportunityStageChangeFactory.create_batch(30, opportunity=opportunity, changed_by=manager)
    with django_assert_max_num_queries(4) as large:
        manager_client.get(f"{detail_url(opportunity)}/stage-history")
    assert len(large.captured_queries) == len(small.captured_queries)


# --- pipeline stats ---------------------------------------------------------------------------


def test_stats_of_an_empty_pipeline(rep_client):
    body = rep_client.get(STATS_URL + "/").json()
    assert (body["total_opportunities"], body["total_pipeline_value"], body["win_rate"]) == (0, 0.0, 0.0)
    assert list(body["by_stage"]) == [stage.value for stage in OpportunityStage]


def test_a_reps_stats_count_only_their_opportunities(rep_client, rep, other_rep):
    OpportunityFactory(owner=rep, estimated_value=Decimal("100"))
    OpportunityFactory(owner=other_rep, estimated_value=Decimal("900"))
    body = rep_client.get(STATS_URL).json()
    assert (body["total_opportunities"], body["total_pipeline_value"]) == (1, 100.0)
    assert rep_client.get(f"{STATS_URL}?owner_id={other_rep.pk}").json()["total_opportunities"] == 0


@pytest.mark.parametrize("query", ["owner_id=abc", "owner_id=0", "owner_id=1.5"])
def test_stats_with_a_bad_owner_id_is_400(manager_client, query):
    response = manager_client.get(f"{STATS_URL}?{query}")
    assert response.status_code == 400
    assert "owner_id" in response.json()


def test_stats_for_an_unknown_owner_are_zeros(manager_client):
    OpportunityFactory()
    assert manager_client.get(f"{STATS_URL}?owner_id=99999999999999999999").status_code == 400
    assert manager_client.get(f"{STATS_URL}?owner_id=987654").json()["total_opportunities"] == 0


# --- record access ----------------------------------------------------------------------------


def test_a_rep_lists_only_their_opportunities(rep_client, rep, other_rep):
    mine = OpportunityFactory(owner=rep)
    OpportunityFactory(owner=other_rep)
    OpportunityFactory(owner=None)
    assert ids(rep_client.get(LIST_URL)) == [str(mine.pk)]


def test_another_reps_opportunity_is_404_everywhere(rep_client, other_rep):
    theirs = OpportunityFactory(owner=other_rep, name="Theirs")
    url = detail_url(theirs)
    assert rep_client.get(url).status_code == 404
    assert rep_client.patch(url, {"name": "Mine now"}, format="json").status_code == 404
    assert rep_client.put(url, {"name": "Mine now"}, format="json").status_code == 404
    assert rep_client.post(f"{url}/close", {"stage": "closed_won"}, format="json").status_code == 404
    assert rep_client.get(f"{url}/history").status_code == 404
    assert rep_client.delete(url).status_code == 404
    theirs.refresh_from_db()
    assert (theirs.name, theirs.stage) == ("Theirs", "prospecting")


def test_a_rep_updates_and_closes_their_own(rep_client, rep):
    mine = OpportunityFactory(owner=rep)
    assert rep_client.patch(detail_url(mine), {"stage": "proposal"}, format="json").status_code == 200
    assert rep_client.post(f"{detail_url(mine)}/close", {"stage": "closed_won"}, format="json").status_code == 200


def test_a_rep_cannot_give_an_opportunity_to_someone_else(rep_client, rep, other_rep):
    body = {"name": "X", "customer_id": str(CustomerFactory().pk), "estimated_value": 1, "owner_id": other_rep.pk}
    response = rep_client.post(LIST_URL, body, format="json")
    assert response.status_code == 403
    assert "owner_id" in response.json()["detail"]
    mine = OpportunityFactory(owner=rep)
    response = rep_client.patch(detail_url(mine), {"owner_id": other_rep.pk}, format="json")
    assert response.status_code == 403
    assert "owner_id" in response.json()["detail"]
    assert rep_client.patch(detail_url(mine), {"owner_id": None}, format="json").status_code == 403
    mine.refresh_from_db()
    assert mine.owner == rep


def test_a_lead_hidden_from_the_rep_reads_as_missing(rep_client, other_rep):
    hidden = LeadFactory(assigned_to=other_rep)
    body = {"name": "X", "customer_id": str(CustomerFactory().pk), "estimated_value": 1, "lead_id": str(hidden.pk)}
    response = rep_client.post(LIST_URL, body, format="json")
    assert response.status_code == 400
    assert "does not exist" in response.json()["lead_id"][0]


def test_only_managers_delete(rep_client, rep, manager_client):
    mine = OpportunityFactory(owner=rep)
    assert rep_client.delete(detail_url(mine)).status_code == 403
    assert Opportunity.objects.filter(pk=mine.pk).exists()
    assert manager_client.delete(detail_url(mine)).status_code == 204
    assert not Opportunity.objects.filter(pk=mine.pk).exists()


def test_deleting_an_opportunity_with_communications_is_409(manager_client):
    opportunity = OpportunityFactory()
    Communication.objects.create(opportunity=opportunity, customer=opportunity.customer, subject="Call")
    response = manager_client.delete(detail_url(opportunity))
    assert response.status_code == 409
    assert "communications" in response.json()["detail"]
    assert Opportunity.objects.filter(pk=opportunity.pk).exists()


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("post", ""), ("get", "/pipeline/stats"), ("get", "/{id}"), ("get", "/{id}/history")],
)
def test_no_role_is_403_and_anonymous_is_401(no_role_client, anon_client, method, suffix):
    opportunity = OpportunityFactory()
    url = LIST_URL + suffix.format(id=opportunity.pk)
    assert getattr(no_role_client, method)(url).status_code == 403
    response = getattr(anon_client, method)(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_unknown_or_malformed_id_is_404(manager_client):
    assert manager_client.get(f"{LIST_URL}/not-a-uuid").status_code == 404
    dotted = manager_client.get(f"{LIST_URL}/0.5")
    assert (dotted.status_code, dotted["Content-Type"]) == (404, "application/json")
    assert manager_client.get(f"{LIST_URL}/00000000-0000-0000-0000-000000000000").status_code == 404
    assert (
        manager_client.post(f"{LIST_URL}/not-a-uuid/close", {"stage": "closed_won"}, format="json").status_code == 404
    )
    assert manager_client.get(f"{LIST_URL}/00000000-0000-0000-0000-000000000000/history").status_code == 404


def test_router_names_resolve():
    assert reverse("opportunity-list") == LIST_URL
    assert reverse("opportunity-pipeline-stats") == STATS_URL


def test_history_outlives_the_user_who_made_the_change(manager_client):
    from crm_project.core.tests.factories import RepFactory

    leaver = RepFactory()
    opportunity = OpportunityFactory()
    change = OpportunityStageChangeFactory(opportunity=opportunity, changed_by=leaver)
    leaver.delete()
    row = manager_client.get(f"{detail_url(opportunity)}/stage-history").json()["results"][0]
    assert (row["id"], row["changed_by_id"], row["changed_by_name"]) == (change.pk, None, None)
