"""Safe retries: a POST with an Idempotency-Key is done once per user and key."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone

from crm_project.core.models import IdempotencyRecord
from crm_project.core.tests.concurrency import run_concurrently
from customers.models import Customer

pytestmark = pytest.mark.django_db

URL = "/api/v1/crm/customers"


def create(client, key, name="Acme", **extra):
    return client.post(URL, {"company_name": name}, format="json", HTTP_IDEMPOTENCY_KEY=key, **extra)


def test_a_retry_with_the_same_key_and_body_returns_the_first_answer_and_does_nothing(manager_client):
    first = create(manager_client, "key-1")
    retry = create(manager_client, "key-1")

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert retry["ETag"] == first["ETag"]
    assert Customer.objects.count() == 1


def test_the_same_key_with_a_different_body_is_422(manager_client):
    create(manager_client, "key-1", name="Acme")
    response = create(manager_client, "key-1", name="Other")
    assert response.status_code == 422
    assert Customer.objects.count() == 1


def test_keys_are_scoped_per_user(manager_client, rep_client):
    assert create(manager_client, "shared").status_code == 201
    assert create(rep_client, "shared").status_code == 201
    assert Customer.objects.count() == 2


def test_without_a_key_every_post_does_the_work(manager_client):
    manager_client.post(URL, {"company_name": "A"}, format="json")
    manager_client.post(URL, {"company_name": "A"}, format="json")
    assert Customer.objects.count() == 2


def test_a_client_error_is_remembered_too(manager_client):
    first = manager_client.post(URL, {}, format="json", HTTP_IDEMPOTENCY_KEY="bad")
    retry = manager_client.post(URL, {}, format="json", HTTP_IDEMPOTENCY_KEY="bad")
    assert first.status_code == retry.status_code == 400
    assert retry["Idempotent-Replayed"] == "true"


def test_a_server_error_frees_the_key_so_the_retry_does_the_work(manager_client):
    with mock.patch("customers.services.customer_create", side_effect=ZeroDivisionError):
        assert create(manager_client, "k").status_code == 500
    assert not IdempotencyRecord.objects.exists()
    assert create(manager_client, "k").status_code == 201
    assert Customer.objects.count() == 1


def test_a_key_expires_after_24_hours(manager_client):
    create(manager_client, "old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    response = create(manager_client, "old")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Customer.objects.count() == 2


@pytest.mark.parametrize("key", ["", " ", "k" * 256])
def test_a_malformed_key_is_400(manager_client, key):
    assert create(manager_client, key).status_code == 400
    assert not Customer.objects.exists()


@pytest.mark.parametrize("key", ["k", ""])
def test_an_unauthenticated_post_with_a_key_is_401(anon_client, key):
    assert create(anon_client, key).status_code == 401


def test_prune_deletes_records_past_their_lifetime(manager_client, capsys):
    create(manager_client, "recent")
    create(manager_client, "old")
    IdempotencyRecord.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=30))

    call_command("prune_expired")

    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["recent"]
    assert "Deleted 1 idempotency record," in capsys.readouterr().out


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_do_the_work_once():
    from rest_framework.test import APIClient

    from crm_project.core.api.tokens import CRMRefreshToken
    from crm_project.core.tests.factories import ManagerFactory

    token = str(CRMRefreshToken.for_user(ManagerFactory(username="concurrent")).access_token)

    def post() -> int:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return create(client, "same-key").status_code

    statuses, errors = run_concurrently(post, threads=8)

    assert errors == []
    assert statuses == [201] * 8
    assert Customer.objects.count() == 1
