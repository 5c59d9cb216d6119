"""Likely duplicates of customers: the keys the services keep, the candidates, the API."""

from __future__ import annotations

import factory
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm_project.core.matching import MatchProbe
from customers.selectors import customer_duplicates
from customers.services import customer_create, customer_update

from .factories import CustomerFactory as BaseCustomerFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/crm/customers"
CHECK_URL = f"{LIST_URL}/check-duplicates"


class CustomerFactory(BaseCustomerFactory):
    """Each at a company domain of its own: no shared domain unless a test says so."""

    email = factory.Sequence(lambda n: f"buyer@company{n}.example")


def duplicates_url(customer) -> str:
    return f"{LIST_URL}/{customer.pk}/duplicates"


def test_create_and_update_keep_the_keys(manager):
    customer = customer_create(
        actor=manager, data={"company_name": "Acme, Inc.", "email": "a@Acme.example", "phone": "+1 (212) 555-0100"}
    )
    assert (customer.match_company_name, customer.match_email_domain, customer.match_phone) == (
        "acme",
        "acme.example",
        "2125550100",
    )
    customer = customer_update(actor=manager, customer=customer, data={"email": "a@yahoo.co.in"})
    customer.refresh_from_db()
    assert customer.match_email_domain == ""


def test_phone_written_three_ways_matches(manager):
    customer = CustomerFactory(phone="+91 98450 12345", company_name="Alpha")
    others = [CustomerFactory(phone="098450-12345", company_name="Beta"), CustomerFactory(phone="9845012345")]
    found = customer_duplicates(manager, probe=MatchProbe.of_record(customer), exclude_pk=customer.pk)
    assert {item["id"] for item in found} == {other.pk for other in others}
    assert all("same_phone" in item["reasons"] for item in found)


def test_customers_without_an_email_do_not_match_by_it(manager):
    customer = CustomerFactory(email="", company_name="Alpha")
    CustomerFactory(email="", company_name="Beta")
    assert customer_duplicates(manager, probe=MatchProbe.of_record(customer), exclude_pk=customer.pk) == []


def test_duplicates_of_a_customer_through_the_api(rep_client):
    customer = CustomerFactory(company_name="Lotus Retail Pvt Ltd", email="priya@lotus.in")
    twin = CustomerFactory(company_name="Lotus Retail", email="ravi@lotus.in")
    free_mail = CustomerFactory(company_name="Lotus Retail Private Limited", email="lotus@gmail.com")
    response = rep_client.get(duplicates_url(customer))
    assert response.status_code == 200, response.content
    body = response.json()
    assert [item["id"] for item in body] == [str(twin.pk), str(free_mail.pk)]
    assert body[0]["reasons"] == ["similar_company_name", "same_email_domain"]  # strongest first
    assert body[1]["reasons"] == ["similar_company_name"]
    assert body[0]["customer_code"] == twin.customer_code
    assert set(body[0]) == {
        "id",
        "score",
        "reasons",
        "company_name",
        "contact_person",
        "email",
        "phone",
        "customer_code",
    }


def test_users_without_a_crm_role_see_no_duplicates(no_role_client, no_role_user):
    customer = CustomerFactory(company_name="Lotus Retail")
    CustomerFactory(company_name="Lotus Retail Ltd")
    assert no_role_client.post(CHECK_URL, {"company_name": "Lotus Retail"}, format="json").status_code == 403
    assert customer_duplicates(no_role_user, probe=MatchProbe.of_record(customer)) == []


def test_check_duplicates_before_creating(manager_client):
    existing = CustomerFactory(company_name="Sharma Traders", phone="022 2345 6789")
    response = manager_client.post(
        CHECK_URL, {"company_name": "Sharma Traders Pvt. Ltd.", "phone": "+91-22-23456789"}, format="json"
    )
    assert response.status_code == 200, response.content
    [item] = response.json()
    assert (item["id"], item["reasons"]) == (str(existing.pk), ["same_phone", "similar_company_name"])


@pytest.mark.parametrize("body", [{}, {"contact_person": "Priya"}, {"email": 5}, {"phone": "1" * 51}])
def test_check_duplicates_refuses_bad_bodies(manager_client, body):
    assert manager_client.post(CHECK_URL, body, format="json").status_code == 400


def test_check_duplicates_takes_a_fixed_number_of_queries(manager_client):
    body = {"company_name": "Lotus Retail", "email": "a@lotus.in", "phone": "9845012345"}

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert manager_client.post(CHECK_URL, body, format="json").status_code == 200
        return len(captured)

    CustomerFactory(company_name="Lotus Retail")
    few = count_queries()
    for n in range(15):
        CustomerFactory(company_name=f"Lotus Retail {n}", email=f"b{n}@lotus.in", phone="+91 98450 12345")
    assert len(manager_client.post(CHECK_URL, body, format="json").json()) == 16
    assert count_queries() == few
