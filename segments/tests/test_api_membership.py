"""Membership, criteria and performance through the API."""

import uuid
from decimal import Decimal

import pytest

from customers.tests.factories import CustomerFactory
from opportunities.models import Opportunity, OpportunityStage
from segments.models import SegmentMembership
from segments.services import MAX_CUSTOMER_IDS

from .api_helpers import PAGE_KEYS, SEED_SEGMENT, ids, url
from .factories import SegmentFactory, SegmentMembershipFactory, assert_count_is_true, bulk_customers, members_of

pytestmark = pytest.mark.django_db


# --- assign and remove ------------------------------------------------------------------------


def test_the_seeds_assign_example_works_as_written(manager_client):
    segment = SegmentFactory()
    customers = CustomerFactory.create_batch(3)
    response = manager_client.post(
        url(segment, "assign-customers"), {"customer_ids": ids(customers), "segment_id": str(segment.pk)}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"segment_id": str(segment.pk), "assigned": 3, "already_assigned": 0, "customer_count": 3}
    assert_count_is_true(segment)


def test_assign_counts_customers_already_in_the_segment(manager_client):
    segment = SegmentFactory()
    member, newcomer = CustomerFactory.create_batch(2)
    SegmentMembershipFactory(segment=segment, customer=member)
    body = manager_client.post(
        url(segment, "assign-customers") + "/", {"customer_ids": ids([member, newcomer, newcomer])}, format="json"
    ).json()
    assert (body["assigned"], body["already_assigned"], body["customer_count"]) == (1, 1, 2)


def test_assign_accepts_the_bare_array_too(manager_client):
    segment = SegmentFactory()
    response = manager_client.post(
        url(segment, "assign-customers"), ids(CustomerFactory.create_batch(2)), format="json"
    )
    assert response.json()["assigned"] == 2


def test_assign_with_another_segments_id_in_the_body_is_400_on_segment_id(manager_client):
    segment, other = SegmentFactory.create_batch(2)
    response = manager_client.post(
        url(segment, "assign-customers"),
        {"customer_ids": ids([CustomerFactory()]), "segment_id": str(other.pk)},
        format="json",
    )
    assert response.status_code == 400
    assert "segment_id" in response.json()
    assert not SegmentMembership.objects.exists()


def test_assign_with_unknown_ids_is_400_naming_them_and_changes_nothing(manager_client):
    segment = SegmentFactory()
    known = CustomerFactory()
    unknown = uuid.uuid4()
    response = manager_client.post(
        url(segment, "assign-customers"), {"customer_ids": [str(known.pk), str(unknown)]}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"customer_ids": [f"Unknown customer ids: {unknown}."]}
    assert not SegmentMembership.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"customer_ids": ["not-a-uuid"]},
        {"customer_ids": "not-a-list"},
        {"customer_ids": None},
        {"segment_id": "x"},
        "customer ids",
        42,
        {"customer_ids": [str(uuid.uuid4())] * (MAX_CUSTOMER_IDS + 1)},
    ],
)
def test_malformed_membership_bodies_are_400(manager_client, body):
    segment = SegmentFactory()
    for action in ("assign-customers", "remove-customers"):
        response = manager_client.post(url(segment, action), body, format="json")
        assert response.status_code == 400, (action, response.content)


def test_an_empty_list_changes_nothing_and_says_so(manager_client):
    segment = SegmentFactory()
    body = manager_client.post(url(segment, "assign-customers"), {"customer_ids": []}, format="json").json()
    assert (body["assigned"], body["already_assigned"], body["customer_count"]) == (0, 0, 0)


def test_the_seeds_remove_example_with_a_bare_array_works(manager_client):
    segment = SegmentFactory()
    first, second, kept = CustomerFactory.create_batch(3)
    for customer in (first, second, kept):
        SegmentMembershipFactory(segment=segment, customer=customer)
    response = manager_client.post(url(segment, "remove-customers"), ids([first, second]), format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"segment_id": str(segment.pk), "removed": 2, "not_assigned": 0, "customer_count": 1}
    assert members_of(segment) == {kept.pk}


def test_remove_accepts_the_object_form_and_counts_customers_not_in_the_segment(manager_client):
    segment = SegmentFactory()
    member, outsider = CustomerFactory.create_batch(2)
    SegmentMembershipFactory(segment=segment, customer=member)
    body = manager_client.post(
        url(segment, "remove-customers") + "/", {"customer_ids": ids([member, outsider])}, format="json"
    ).json()
    assert (body["removed"], body["not_assigned"], body["customer_count"]) == (1, 1, 0)


def test_remove_with_unknown_ids_is_400(manager_client):
    segment = SegmentFactory()
    response = manager_client.post(url(segment, "remove-customers"), [str(uuid.uuid4())], format="json")
    assert response.status_code == 400
    assert response.json()["customer_ids"][0].startswith("Unknown customer ids:")


def test_assigning_5000_customers_in_one_request(manager_client, django_assert_max_num_queries):
    segment = SegmentFactory()
    customers = bulk_customers(5000)
    with django_assert_max_num_queries(12):
        response = manager_client.post(
            url(segment, "assign-customers"), {"customer_ids": ids(customers)}, format="json"
        )
    assert response.json()["customer_count"] == 5000
    assert_count_is_true(segment)


# --- member and matching lists -------------------------------------------------------------------


def test_customers_lists_the_members_in_the_customer_shape(rep_client):
    segment = SegmentFactory()
    member = CustomerFactory()
    CustomerFactory()
    SegmentMembershipFactory(segment=segment, customer=member)
    body = rep_client.get(url(segment, "customers") + "?page=1&page_size=10").json()
    assert set(body) == PAGE_KEYS
    assert [row["id"] for row in body["results"]] == [str(member.pk)]
    assert body["results"][0]["segment_ids"] == [str(segment.pk)]
    assert "customer_code" in body["results"][0]


def test_the_segment_lists_filters_do_not_apply_to_its_member_list(manager_client):
    segment = SegmentFactory(is_active=True)
    SegmentMembershipFactory(segment=segment)
    response = manager_client.get(url(segment, "customers") + "?is_active=false&search=zzz")
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_member_list_query_count_does_not_grow_with_page_size(manager_client, django_assert_max_num_queries):
    segment = SegmentFactory()
    for customer in CustomerFactory.create_batch(5):
        SegmentMembershipFactory(segment=segment, customer=customer)
    with django_assert_max_num_queries(6) as small:
        assert len(manager_client.get(url(segment, "customers"), {"page_size": 5}).json()["results"]) == 5
    for customer in CustomerFactory.create_batch(45):
        SegmentMembershipFactory(segment=segment, customer=customer)
    with django_assert_max_num_queries(6) as large:
        assert len(manager_client.get(url(segment, "customers")).json()["results"]) == 50
    assert len(small.captured_queries) == len(large.captured_queries)


def test_a_member_page_past_the_end_is_404(manager_client):
    assert manager_client.get(url(SegmentFactory(), "customers") + "?page=2").status_code == 404


def test_matching_customers_is_a_page_with_the_unrecognized_criteria(rep_client):
    segment = SegmentFactory(criteria={"city": "pune", "loyalty": "gold"})
    match = CustomerFactory(city="Pune")
    CustomerFactory(city="Delhi")
    body = rep_client.get(url(segment, "matching-customers")).json()
    assert set(body) == PAGE_KEYS | {"unrecognized_criteria"}
    assert [row["id"] for row in body["results"]] == [str(match.pk)]
    assert body["unrecognized_criteria"] == ["loyalty"]


def test_matching_customers_of_invalid_stored_criteria_is_400(manager_client):
    segment = SegmentFactory(criteria={"min_annual_spend": "lots"})
    response = manager_client.get(url(segment, "matching-customers"))
    assert response.status_code == 400
    assert "criteria" in response.json()


def test_apply_criteria_assigns_the_matches_and_answers_like_assign(manager_client):
    segment = SegmentFactory(criteria={**SEED_SEGMENT["criteria"], "loyalty": "gold"})
    hvc = CustomerFactory(annual_spend=600000, order_frequency="monthly", credit_rating="excellent")
    CustomerFactory(annual_spend=100, order_frequency="monthly", credit_rating="excellent")
    response = manager_client.post(url(segment, "apply-criteria"), format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "segment_id": str(segment.pk),
        "assigned": 1,
        "already_assigned": 0,
        "customer_count": 1,
        "unrecognized_criteria": ["loyalty"],
    }
    assert members_of(segment) == {hvc.pk}


def test_apply_criteria_without_evaluable_criteria_is_409(manager_client):
    segment = SegmentFactory(criteria={"loyalty": "gold"})
    CustomerFactory()
    response = manager_client.post(url(segment, "apply-criteria"))
    assert response.status_code == 409
    assert not SegmentMembership.objects.exists()


# --- performance ------------------------------------------------------------------------------


def test_performance_answers_the_contract_shape_with_numbers(manager_client, rep):
    segment = SegmentFactory()
    customer = CustomerFactory(annual_spend=Decimal("1200.50"))
    SegmentMembershipFactory(segment=segment, customer=customer)
    Opportunity.objects.create(
        opportunity_number="OPP-T-1",
        name="Deal",
        customer=customer,
        owner=rep,
        estimated_value=Decimal("1000"),
        probability=50,
        expected_revenue=Decimal("500"),
        stage=OpportunityStage.PROPOSAL,
    )
    response = manager_client.get(url(segment, "performance") + "?start_date=2025-01-01&end_date=2025-12-31T23:59:59Z")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "segment_id": str(segment.pk),
        "customer_count": 1,
        "active_customers": 1,
        "total_annual_spend": 1200.5,
        "opportunities": {
            "open_count": 1,
            "open_value": 1000.0,
            "weighted_value": 500.0,
            "won_count": 0,
            "won_value": 0.0,
            "lost_count": 0,
            "win_rate": 0.0,
        },
        "communications_count": 0,
        "last_communication_at": None,
    }


def test_performance_for_a_rep_hides_other_reps_opportunities(client_for, rep, other_rep):
    segment = SegmentFactory()
    customer = CustomerFactory()
    SegmentMembershipFactory(segment=segment, customer=customer)
    Opportunity.objects.create(
        opportunity_number="OPP-T-2",
        name="Theirs",
        customer=customer,
        owner=other_rep,
        estimated_value=Decimal("1000"),
        stage=OpportunityStage.PROSPECTING,
    )
    assert client_for(rep).get(url(segment, "performance")).json()["opportunities"]["open_count"] == 0
    assert client_for(other_rep).get(url(segment, "performance")).json()["opportunities"]["open_count"] == 1


@pytest.mark.parametrize(
    "query",
    ["start_date=yesterday", "end_date=2025-13-01", "start_date=2025-03-02&end_date=2025-03-01"],
)
def test_bad_performance_dates_are_400_naming_the_parameter(manager_client, query):
    response = manager_client.get(url(SegmentFactory(), "performance") + "?" + query)
    assert response.status_code == 400
    assert set(response.json()) & {"start_date", "end_date"}


def test_a_one_day_range_is_valid(manager_client):
    response = manager_client.get(url(SegmentFactory(), "performance") + "?start_date=2025-03-01&end_date=2025-03-01")
    assert response.status_code == 200
