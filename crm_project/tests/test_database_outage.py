"""
During a database outage the API answers 503 with a JSON body and ``Retry-After`` (never a
stack trace, never HTML), wherever the outage strikes: in a view, in the Idempotency-Key
middleware before the view, or in the health check; and it recovers by itself.
"""

from __future__ import annotations

from contextlib import contextmanager
from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.test import Client

from crm_project.core.api.tokens import CRMRefreshToken
from crm_project.core.models import IdempotencyRecord
from customers.models import Customer

URL = "/api/v1/crm/customers"


@pytest.fixture
def client(manager) -> Client:
    """A plain Django client that answers as production does (no re-raised exceptions)."""
    token = CRMRefreshToken.for_user(manager).access_token
    return Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {token}")


@contextmanager
def database_down(error=OperationalError):
    """Every query fails, as it does while the server is down or restarting."""
    with mock.patch.object(connection, "create_cursor", side_effect=error("server closed the connection")):
        yield


def assert_unavailable(response) -> None:
    assert response.status_code == 503, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "The database is unavailable; retry shortly."}
    assert int(response["Retry-After"]) > 0


def create(client, key: str | None = None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(URL, {"company_name": "Acme"}, content_type="application/json", **headers)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_every_kind_of_request_is_a_json_503_while_the_database_is_down(client, error):
    with database_down(error):
        assert_unavailable(client.get(URL))
        assert_unavailable(create(client))
        # The Idempotency-Key middleware reads the database before any view runs.
        assert_unavailable(create(client, key="k-1"))
        health = client.get("/health")
    assert health.status_code == 503
    assert health.json() == {"status": "unavailable", "database": "unreachable", "broker": "inline"}


@pytest.mark.django_db(transaction=True)
def test_the_api_recovers_by_itself_when_the_database_returns(client):
    with database_down():
        assert_unavailable(create(client, key="k-1"))

    assert client.get("/health").json() == {"status": "ok", "database": "ok", "broker": "inline"}
    assert client.get(URL).status_code == 200
    retry = create(client, key="k-1")
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry
    assert Customer.objects.count() == 1


@pytest.mark.django_db
def test_a_failure_after_the_key_was_claimed_frees_it(client):
    # The claim is written, then the database goes away inside the view: the key is released
    # with the 503, so the client's retry does the work.
    with mock.patch("customers.services.customer_create", side_effect=OperationalError("gone")):
        assert_unavailable(create(client, key="k-1"))
    assert not IdempotencyRecord.objects.exists()
    assert create(client, key="k-1").status_code == 201


class WorkerKilled(BaseException):
    """What a SIGKILL looks like from inside: the request stops wherever it was."""


def failing_answer_store(error: type[BaseException]):
    """``IdempotencyRecord.save`` that claims the key as usual but fails to store the answer."""
    original = IdempotencyRecord.save

    def save(record, *args, **kwargs):
        if kwargs.get("update_fields"):
            assert Customer.objects.exists()  # The work is done by now.
            raise error("storing the answer failed")
        return original(record, *args, **kwargs)

    return save


@pytest.mark.django_db
def test_a_worker_killed_mid_request_leaves_nothing_behind_and_the_retry_does_the_work_once(client):
    with (
        mock.patch("customers.services.customer_create", side_effect=WorkerKilled),
        pytest.raises(WorkerKilled),
    ):
        create(client, key="k-1")
    assert not IdempotencyRecord.objects.exists()

    assert create(client, key="k-1").status_code == 201
    assert Customer.objects.count() == 1


@pytest.mark.django_db
def test_a_worker_killed_after_the_work_but_before_storing_the_answer_leaves_no_work_behind(client):
    # The work and its answer commit together: a death in between rolls the work back too.
    with mock.patch.object(IdempotencyRecord, "save", failing_answer_store(WorkerKilled)), pytest.raises(WorkerKilled):
        create(client, key="k-1")
    assert not Customer.objects.exists()

    assert create(client, key="k-1").status_code == 201
    assert Customer.objects.count() == 1


@pytest.mark.django_db
def test_an_answer_that_cannot_be_stored_is_a_503_and_the_work_is_undone(client):
    with mock.patch.object(IdempotencyRecord, "save", failing_answer_store(OperationalError)):
        assert_unavailable(create(client, key="k-1"))
    assert not Customer.objects.exists()
    assert not IdempotencyRecord.objects.exists()


def test_an_unexpected_error_outside_the_views_stays_a_json_500(rf):
    from crm_project.core.errors import server_error

    try:
        raise ZeroDivisionError
    except ZeroDivisionError:
        response = server_error(rf.get("/api/v1/crm/leads"))
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert "Retry-After" not in response
