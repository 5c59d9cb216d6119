import pytest
from django.urls import reverse

from customers.models import Customer
from segments.models import Segment, SegmentMembership

from .factories import CustomerFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/crm/customers"


def detail_url(customer) -> str:
    return f"{LIST_URL}/{customer.pk}"


def test_create_numbers_the_customer_and_answers_with_every_field(manager_client, manager):
    response = manager_client.post(
        LIST_URL,
        {
            "company_name": "Acme Garments",
            "email": "buyer@acme.example",
            "annual_spend": "1200.50",
            "credit_rating": "good",
            "order_frequency": "monthly",
            "account_manager_id": manager.pk,
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["customer_code"] == "CUST-000001"
    assert body["annual_spend"] == 1200.5
    assert body["account_manager_id"] == manager.pk
    assert body["segment_ids"] == []
    assert body["last_contacted_at"] is None
    assert set(body) >= {"id", "company_name", "payment_terms", "is_active", "created_at", "updated_at"}
    assert response["ETag"]


def test_customer_codes_are_sequential(manager_client):
    codes = [
        manager_client.post(LIST_URL, {"company_name": f"C{i}"}, format="json").json()["customer_code"]
        for i in range(3)
    ]
    assert codes == ["CUST-000001", "CUST-000002", "CUST-000003"]


def test_create_requires_company_name(manager_client):
    response = manager_client.post(LIST_URL, {"email": "x@example.com"}, format="json")
    assert response.status_code == 400
    assert "company_name" in response.json()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("annual_spend", -1),
        ("credit_rating", "superb"),
        ("order_frequency", "hourly"),
        ("email", "not-an-email"),
        ("account_manager_id", 999999),
        ("annual_spend", "1e30"),
    ],
)
def test_create_rejects_invalid_values_naming_the_field(manager_client, field, value):
    response = manager_client.post(LIST_URL, {"company_name": "Acme", field: value}, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_read_only_fields_in_the_body_are_ignored(manager_client):
    response = manager_client.post(
        LIST_URL,
        {
            "company_name": "Acme",
            "customer_code": "CUST-999999",
            "id": "00000000-0000-0000-0000-000000000000",
            "last_contacted_at": "2020-01-01T00:00:00Z",
            "segment_ids": ["00000000-0000-0000-0000-000000000001"],
        },
        format="json",
    )
    body = response.json()
    assert body["customer_code"] == "CUST-000001"
    assert body["id"] != "00000000-0000-0000-0000-000000000000"
    assert body["last_contacted_at"] is None
    assert body["segment_ids"] == []


def test_put_and_patch_both_accept_a_partial_body(manager_client):
    customer = CustomerFactory(company_name="Old", city="Pune")
    put = manager_client.put(detail_url(customer), {"company_name": "New"}, format="json")
    patch = manager_client.patch(detail_url(customer), {"city": "Delhi"}, format="json")

    assert put.status_code == 200 and patch.status_code == 200
    customer.refresh_from_db()
    assert (customer.company_name, customer.city) == ("New", "Delhi")


def test_update_advances_updated_at_and_the_etag(manager_client):
    customer = CustomerFactory()
    before = manager_client.get(detail_url(customer))["ETag"]
    after = manager_client.patch(detail_url(customer), {"city": "Surat"}, format="json")["ETag"]
    assert before != after


def test_list_filters(manager_client, manager):
    wanted = CustomerFactory(
        company_name="Zeta Textiles",
        credit_rating="excellent",
        order_frequency="weekly",
        country="India",
        account_manager=manager,
        is_active=True,
    )
    CustomerFactory(
        company_name="Other", credit_rating="poor", order_frequency="yearly", country="Nepal", is_active=False
    )
    segment = Segment.objects.create(name="VIP", code="VIP")
    SegmentMembership.objects.create(segment=segment, customer=wanted)

    for query in [
        "search=zeta",
        f"search={wanted.customer_code.lower()}",
        "credit_rating=excellent",
        "order_frequency=weekly",
        "country=india",
        "is_active=true",
        f"account_manager_id={manager.pk}",
        f"segment_id={segment.pk}",
    ]:
        results = manager_client.get(f"{LIST_URL}?{query}").json()["results"]
        assert [row["id"] for row in results] == [str(wanted.pk)], query


def test_segment_ids_are_listed_on_each_customer(manager_client):
    customer = CustomerFactory()
    segment = Segment.objects.create(name="VIP", code="VIP")
    SegmentMembership.objects.create(segment=segment, customer=customer)
    assert manager_client.get(detail_url(customer)).json()["segment_ids"] == [str(segment.pk)]


def test_not_contacted_since_lists_dormant_customers(manager_client):
    import datetime as dt

    from django.utils import timezone

    now = timezone.now()
    recent = CustomerFactory(last_contacted_at=now)
    dormant = CustomerFactory(last_contacted_at=now - dt.timedelta(days=90))
    never = CustomerFactory(last_contacted_at=None)

    since = (now - dt.timedelta(days=30)).date().isoformat()
    ids = {row["id"] for row in manager_client.get(f"{LIST_URL}?not_contacted_since={since}").json()["results"]}
    assert ids == {str(dormant.pk), str(never.pk)}
    assert str(recent.pk) not in ids


@pytest.mark.parametrize(
    "query",
    [
        "credit_rating=bogus",
        "order_frequency=never",
        "segment_id=not-a-uuid",
        "is_active=maybe",
        "account_manager_id=abc",
        "account_manager_id=1.5",
        "account_manager_id=99999999999999999999999",
        "not_contacted_since=yesterday",
        "not_contacted_since=9999-12-31",
        "not_contacted_since=2025-02-30",
        "ordering=password",
    ],
)
def test_bad_filter_values_are_400_naming_the_parameter(manager_client, query):
    response = manager_client.get(f"{LIST_URL}?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_ordering(manager_client):
    CustomerFactory(company_name="Beta")
    CustomerFactory(company_name="Alpha")
    names = [row["company_name"] for row in manager_client.get(f"{LIST_URL}?ordering=company_name").json()["results"]]
    assert names == ["Alpha", "Beta"]


def test_list_query_count_does_not_grow_with_page_size(manager_client, django_assert_max_num_queries):
    segment = Segment.objects.create(name="VIP", code="VIP")
    for customer in CustomerFactory.create_batch(5):
        SegmentMembership.objects.create(segment=segment, customer=customer)
    with django_assert_max_num_queries(6) as small:
        assert len(manager_client.get(LIST_URL, {"page_size": 5}).json()["results"]) == 5
    for customer in CustomerFactory.create_batch(45):
        SegmentMembership.objects.create(segment=segment, customer=customer)
    with django_assert_max_num_queries(6) as large:
        assert len(manager_client.get(LIST_URL).json()["results"]) == 50
    assert len(large.captured_queries) == len(small.captured_queries)


def test_reps_may_create_and_update_but_not_delete(rep_client, rep):
    created = rep_client.post(LIST_URL, {"company_name": "Rep's find", "account_manager_id": rep.pk}, format="json")
    assert created.status_code == 201
    customer = Customer.objects.get(pk=created.json()["id"])
    assert rep_client.patch(detail_url(customer), {"city": "Goa"}, format="json").status_code == 200
    response = rep_client.delete(detail_url(customer))
    assert response.status_code == 403
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_a_rep_cannot_make_someone_else_account_manager(rep_client, other_rep):
    response = rep_client.post(LIST_URL, {"company_name": "X", "account_manager_id": other_rep.pk}, format="json")
    assert response.status_code == 403
    assert "account_manager_id" in response.json()["detail"]
    assert not Customer.objects.exists()


def test_manager_deletes_a_customer(manager_client):
    customer = CustomerFactory()
    assert manager_client.delete(detail_url(customer)).status_code == 204
    assert not Customer.objects.filter(pk=customer.pk).exists()


def test_deleting_a_customer_with_history_is_409_and_keeps_it(manager_client):
    from opportunities.models import Opportunity

    customer = CustomerFactory()
    Opportunity.objects.create(customer=customer, name="Deal", estimated_value=10, opportunity_number="OPP-T-1")
    response = manager_client.delete(detail_url(customer))
    assert response.status_code == 409
    assert "opportunities" in response.json()["detail"]
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_deleting_a_customer_removes_its_memberships(manager_client):
    customer = CustomerFactory()
    segment = Segment.objects.create(name="VIP", code="VIP")
    SegmentMembership.objects.create(segment=segment, customer=customer)
    assert manager_client.delete(detail_url(customer)).status_code == 204
    assert not SegmentMembership.objects.exists()


def test_no_role_user_gets_403_and_anonymous_401(no_role_client, anon_client):
    assert no_role_client.get(LIST_URL).status_code == 403
    response = anon_client.get(LIST_URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_unknown_or_malformed_id_is_404(manager_client):
    assert manager_client.get(f"{LIST_URL}/not-a-uuid").status_code == 404
    assert manager_client.get(f"{LIST_URL}/00000000-0000-0000-0000-000000000000").status_code == 404


def test_router_name_resolves():
    assert reverse("customer-list").startswith("/api/v1/crm/customers")
