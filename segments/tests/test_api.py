"""The segment record through the API: create, read, update, delete, list."""

import uuid

import pytest
from django.urls import reverse

from customers.tests.factories import CustomerFactory
from segments.models import Segment, SegmentMembership

from .api_helpers import LIST_URL, PAGE_KEYS, SEED_SEGMENT, SEGMENT_FIELDS, ids, url
from .factories import SegmentFactory, SegmentMembershipFactory

pytestmark = pytest.mark.django_db


# --- CRUD -------------------------------------------------------------------------------------


def test_the_seeds_create_example_works_as_written(manager_client):
    response = manager_client.post(LIST_URL, SEED_SEGMENT, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == SEGMENT_FIELDS
    assert {key: body[key] for key in SEED_SEGMENT} == SEED_SEGMENT
    assert body["customer_count"] == 0
    assert response["ETag"]


def test_read_only_fields_in_the_body_are_ignored(manager_client):
    response = manager_client.post(
        LIST_URL,
        {
            **SEED_SEGMENT,
            "customer_count": 42,
            "id": "00000000-0000-0000-0000-000000000000",
            "created_at": "2020-01-01",
        },
        format="json",
    )
    body = response.json()
    assert body["customer_count"] == 0
    assert body["id"] != "00000000-0000-0000-0000-000000000000"
    assert not body["created_at"].startswith("2020")


def test_a_code_taken_in_another_case_is_400_on_code(manager_client):
    SegmentFactory(code="HVC")
    response = manager_client.post(LIST_URL, {**SEED_SEGMENT, "code": "hvc"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"code": ["A segment with this code already exists."]}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("criteria", ["min_annual_spend"]),
        ("criteria", "monthly"),
        ("criteria", {"min_annual_spend": "abc"}),
        ("criteria", {"credit_rating": "superb"}),
        ("benefits", [1, 2]),
        ("benefits", 3),
        ("priority", -1),
        ("priority", 2**31),
        ("priority", "first"),
        ("is_active", "maybe"),
        ("code", ""),
        ("code", "X" * 51),
        ("name", None),
    ],
)
def test_invalid_values_are_400_naming_the_field(manager_client, field, value):
    response = manager_client.post(LIST_URL, {**SEED_SEGMENT, field: value}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Segment.objects.exists()


def test_create_requires_name_and_code(manager_client):
    response = manager_client.post(LIST_URL, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"name", "code"}


def test_put_and_patch_both_accept_a_partial_body(manager_client):
    segment = SegmentFactory(name="Old", priority=3)
    assert manager_client.put(url(segment), {"name": "New"}, format="json").status_code == 200
    assert manager_client.patch(url(segment) + "/", {"priority": 0}, format="json").status_code == 200
    segment.refresh_from_db()
    assert (segment.name, segment.priority) == ("New", 0)


def test_update_with_a_stale_if_match_is_412_and_changes_nothing(manager_client):
    segment = SegmentFactory(name="Old")
    etag = manager_client.get(url(segment))["ETag"]
    assert manager_client.patch(url(segment), {"name": "First"}, format="json", HTTP_IF_MATCH=etag).status_code == 200
    response = manager_client.patch(url(segment), {"name": "Second"}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 412
    segment.refresh_from_db()
    assert segment.name == "First"


def test_the_etag_changes_when_membership_changes_the_count(manager_client):
    segment = SegmentFactory()
    before = manager_client.get(url(segment))["ETag"]
    manager_client.post(url(segment, "assign-customers"), {"customer_ids": ids([CustomerFactory()])}, format="json")
    assert manager_client.get(url(segment))["ETag"] != before


def test_a_manager_deletes_a_segment_and_its_customers_stay(manager_client):
    segment = SegmentFactory()
    customer = CustomerFactory()
    SegmentMembershipFactory(segment=segment, customer=customer)
    assert manager_client.delete(url(segment)).status_code == 204
    assert not Segment.objects.exists()
    assert not SegmentMembership.objects.exists()
    assert type(customer).objects.filter(pk=customer.pk).exists()


def test_reps_read_segments_but_every_write_is_403(rep_client):
    segment = SegmentFactory(name="Kept")
    customer = CustomerFactory()
    assert rep_client.get(LIST_URL).json()["count"] == 1
    assert rep_client.get(url(segment)).status_code == 200
    writes = [
        rep_client.post(LIST_URL, SEED_SEGMENT, format="json"),
        rep_client.patch(url(segment), {"name": "Changed"}, format="json"),
        rep_client.delete(url(segment)),
        rep_client.post(url(segment, "assign-customers"), {"customer_ids": ids([customer])}, format="json"),
        rep_client.post(url(segment, "remove-customers"), ids([customer]), format="json"),
        rep_client.post(url(segment, "apply-criteria"), format="json"),
    ]
    assert [response.status_code for response in writes] == [403] * 6
    assert "Only sales managers" in writes[0].json()["detail"]
    segment.refresh_from_db()
    assert (segment.name, Segment.objects.count(), segment.customer_count) == ("Kept", 1, 0)


def test_no_role_user_gets_403_and_anonymous_401(no_role_client, anon_client):
    segment = SegmentFactory()
    for path in (LIST_URL, url(segment), url(segment, "customers"), url(segment, "performance")):
        assert no_role_client.get(path).status_code == 403
        assert anon_client.get(path).status_code == 401


def test_unknown_or_malformed_ids_are_404_everywhere(manager_client):
    missing = f"{LIST_URL}/{uuid.uuid4()}"
    for path in (f"{LIST_URL}/not-a-uuid", missing):
        assert manager_client.get(path).status_code == 404
        assert manager_client.get(path + "/customers").status_code == 404
        assert manager_client.post(path + "/assign-customers", [], format="json").status_code == 404


# --- list -------------------------------------------------------------------------------------


def test_list_is_paginated_and_ordered_by_priority_then_name(manager_client):
    SegmentFactory(name="Beta", priority=1)
    SegmentFactory(name="Alpha", priority=1)
    SegmentFactory(name="Zulu", priority=0)
    body = manager_client.get(LIST_URL).json()
    assert set(body) == PAGE_KEYS
    assert [row["name"] for row in body["results"]] == ["Zulu", "Alpha", "Beta"]
    assert set(body["results"][0]) == SEGMENT_FIELDS


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [("-priority", ["C", "B", "A"]), ("code", ["A", "B", "C"]), ("-customer_count", ["B", "A", "C"])],
)
def test_list_ordering(manager_client, ordering, expected):
    a, b, _c = (
        SegmentFactory(code="A", priority=0),
        SegmentFactory(code="B", priority=1),
        SegmentFactory(code="C", priority=2),
    )
    SegmentMembershipFactory(segment=a)
    SegmentMembershipFactory.create_batch(2, segment=b)
    rows = manager_client.get(f"{LIST_URL}?ordering={ordering}").json()["results"]
    assert [row["code"] for row in rows] == expected


def test_list_filters_by_is_active_and_searches_name_code_and_description(manager_client):
    premium = SegmentFactory(name="Premium buyers", code="PRM")
    by_code = SegmentFactory(name="Other", code="XPREMIUMX")
    by_description = SegmentFactory(name="Third", code="T3", description="Our premium accounts")
    SegmentFactory(name="Dormant premium", code="DRM", is_active=False)

    rows = manager_client.get(f"{LIST_URL}?search=PREMIUM&is_active=true").json()["results"]
    assert {row["id"] for row in rows} == {str(premium.pk), str(by_code.pk), str(by_description.pk)}
    rows = manager_client.get(f"{LIST_URL}?is_active=false").json()["results"]
    assert [row["code"] for row in rows] == ["DRM"]


def test_the_seeds_search_example_works(manager_client):
    SegmentFactory(name="Premium retail", code="PREM")
    assert manager_client.get(f"{LIST_URL}?page=1&page_size=50&is_active=true&search=High").json()["count"] == 0
    assert manager_client.get(f"{LIST_URL}?search=premium&is_active=true").json()["count"] == 1


@pytest.mark.parametrize("query", ["is_active=maybe", "ordering=password", "page=0", "page_size=x"])
def test_bad_list_parameters_are_400_naming_them(manager_client, query):
    response = manager_client.get(f"{LIST_URL}?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_list_query_count_does_not_grow_with_page_size(manager_client, django_assert_max_num_queries):
    SegmentFactory.create_batch(5)
    with django_assert_max_num_queries(4) as small:
        assert len(manager_client.get(LIST_URL, {"page_size": 5}).json()["results"]) == 5
    SegmentFactory.create_batch(45)
    with django_assert_max_num_queries(4) as large:
        assert len(manager_client.get(LIST_URL).json()["results"]) == 50
    assert len(small.captured_queries) == len(large.captured_queries)


def test_router_names_resolve():
    segment_id = uuid.uuid4()
    assert reverse("segment-list").startswith(LIST_URL)
    assert reverse("segment-assign-customers", args=[segment_id]).startswith(
        f"{LIST_URL}/{segment_id}/assign-customers"
    )
