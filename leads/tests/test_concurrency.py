"""Races on PostgreSQL: threads with their own connections, released together by a barrier."""

import threading
from collections.abc import Iterable

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from crm_project.core.api.tokens import CRMRefreshToken
from crm_project.core.exceptions import Conflict
from crm_project.core.tests.concurrency import run_concurrently
from crm_project.core.tests.factories import ManagerFactory
from customers.models import Customer
from leads import services
from leads.models import Lead, LeadStatus

from .factories import LeadFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def api_client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {CRMRefreshToken.for_user(user).access_token}")
    return client


class Handout:
    """Gives each thread the next item of a list (threads start with different inputs)."""

    def __init__(self, items: Iterable):
        self._items = iter(items)
        self._lock = threading.Lock()

    def next(self):
        with self._lock:
            return next(self._items)


def test_fifty_concurrent_creates_get_fifty_distinct_contiguous_numbers():
    manager = ManagerFactory(username="racer")
    emails = Handout(f"buyer{i}@race.example" for i in range(50))

    def create_one() -> str:
        data = {"company_name": "Race Co", "contact_person": "R", "email": emails.next()}
        return services.lead_create(actor=manager, data=data).lead_number

    numbers, errors = run_concurrently(create_one, threads=50)

    assert errors == []
    assert len(set(numbers)) == 50
    prefixes = {number.rsplit("-", 1)[0] for number in numbers}
    assert len(prefixes) == 1  # all today's
    assert sorted(int(number.rsplit("-", 1)[1]) for number in numbers) == list(range(1, 51))
    assert Lead.objects.count() == 50


def test_concurrent_converts_of_one_lead_have_exactly_one_winner():
    manager = ManagerFactory(username="converter")
    lead = LeadFactory(status=LeadStatus.QUALIFIED)

    def convert() -> str:
        try:
            services.lead_convert(actor=manager, lead=lead)
        except Conflict:
            return "conflict"
        return "converted"

    outcomes, errors = run_concurrently(convert, threads=10)

    assert errors == []
    assert sorted(outcomes) == ["conflict"] * 9 + ["converted"]
    assert Customer.objects.count() == 1
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED


def test_two_creates_with_the_same_email_in_different_case_give_one_201_and_one_400():
    manager = ManagerFactory(username="twins")
    emails = Handout(["twin@race.example", "TWIN@Race.Example"])

    def create() -> tuple[int, dict]:
        email = emails.next()
        response = api_client_for(manager).post(
            "/api/v1/crm/leads", {"company_name": "Twin", "contact_person": "T", "email": email}, format="json"
        )
        return response.status_code, response.json()

    results, errors = run_concurrently(create, threads=2)

    assert errors == []
    assert sorted(status for status, _body in results) == [201, 400]
    refused = next(body for status, body in results if status == 400)
    assert refused == {"email": ["A lead with this email already exists."]}
    assert Lead.objects.count() == 1


def test_two_updates_racing_to_the_same_email_never_give_a_500():
    manager = ManagerFactory(username="updaters")
    leads = Handout([LeadFactory(), LeadFactory()])

    def update() -> tuple[int, dict]:
        lead = leads.next()
        response = api_client_for(manager).patch(
            f"/api/v1/crm/leads/{lead.pk}", {"email": "same@race.example"}, format="json"
        )
        return response.status_code, response.json()

    results, errors = run_concurrently(update, threads=2)

    assert errors == []
    assert sorted(status for status, _body in results) == [200, 400]
    assert next(body for status, body in results if status == 400) == {
        "email": ["A lead with this email already exists."]
    }


def test_an_update_racing_a_convert_never_changes_a_converted_lead():
    manager = ManagerFactory(username="mixed")
    lead = LeadFactory(city="Pune")
    jobs = Handout(["convert", "update"] * 5)

    def work() -> str:
        job = jobs.next()
        try:
            with transaction.atomic():
                if job == "convert":
                    services.lead_convert(actor=manager, lead=lead)
                else:
                    services.lead_update(actor=manager, lead=lead, data={"city": "Goa"})
        except Conflict:
            return f"{job}: conflict"
        return f"{job}: ok"

    outcomes, errors = run_concurrently(work, threads=10)

    assert errors == []
    assert outcomes.count("convert: ok") == 1
    assert Customer.objects.count() == 1
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED
    # Updates that ran after the conversion were refused; none ran "around" it.
    assert outcomes.count("update: ok") + outcomes.count("update: conflict") == 5
