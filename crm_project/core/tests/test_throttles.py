"""
Rate limits: the client address cannot be forged, counts hold under concurrency in the
database and in Redis, and a guesser cannot lock an account's owner out.
"""

from __future__ import annotations

import io
import threading
import time
import uuid

import pytest
import redis
from django.core.management import call_command
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from crm_project.core import ratelimit
from crm_project.core.models import RateCounter
from crm_project.core.tests.concurrency import run_concurrently
from crm_project.core.tests.factories import PASSWORD

TOKEN_URL = "/api/v1/auth/token"
ME_URL = "/api/v1/auth/me"
REDIS_URL = "redis://127.0.0.1:6379/0"

pytestmark = pytest.mark.django_db


def sign_in(client, username, password, **extra):
    return client.post(TOKEN_URL, {"username": username, "password": password}, format="json", **extra)


@pytest.fixture
def rates(monkeypatch):
    """Set throttle rates for one test: ``rates(user="3/min")``."""

    def set_rates(**scopes):
        for scope, rate in scopes.items():
            monkeypatch.setitem(api_settings.DEFAULT_THROTTLE_RATES, scope, rate)

    return set_rates


@pytest.fixture
def private_redis(settings, monkeypatch):
    """The real Redis on loopback, with keys of this test's own."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("needs Redis on 127.0.0.1:6379 (.ci/run starts one)")
    prefix = f"crm-test:{uuid.uuid4().hex}:"
    monkeypatch.setattr(ratelimit.RedisCounters, "prefix", prefix)
    settings.REDIS_URL = REDIS_URL
    yield client
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


# --- the client address -----------------------------------------------------------------------


def test_without_proxies_the_client_address_is_the_sockets_whatever_x_forwarded_for_says(anon_client):
    assert api_settings.NUM_PROXIES == 0
    statuses = [sign_in(anon_client, f"u{i}", "x", HTTP_X_FORWARDED_FOR=f"10.9.{i}.9").status_code for i in range(31)]
    assert statuses[:30] == [401] * 30
    assert statuses[30] == 429


def test_a_blocked_client_cannot_get_in_by_adding_x_forwarded_for(anon_client, manager):
    for i in range(30):
        sign_in(anon_client, f"u{i}", "x")
    response = sign_in(anon_client, "manager", PASSWORD, HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert response.status_code == 429


@pytest.mark.parametrize(("proxies", "client_position"), [(1, -1), (2, -2)])
def test_behind_n_proxies_the_client_is_the_nth_address_from_the_right(anon_client, settings, proxies, client_position):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": proxies}
    addresses = ["203.0.113.7", "198.51.100.1", "192.0.2.1"]
    client_address = addresses[client_position]

    def forwarded(forged: str) -> str:
        # The client writes what it likes on the left; the proxies append on the right.
        chain = [forged, *addresses]
        return ", ".join(chain)

    statuses = [
        sign_in(anon_client, f"u{i}", "x", HTTP_X_FORWARDED_FOR=forwarded(f"10.1.1.{i}")).status_code for i in range(31)
    ]
    assert statuses[30] == 429, f"requests from {client_address} should have been counted together"
    another_client = list(addresses)
    another_client[client_position] = "192.0.2.200"
    elsewhere = sign_in(anon_client, "u", "x", HTTP_X_FORWARDED_FOR=", ".join(another_client))
    assert elsewhere.status_code == 401


# --- counting ---------------------------------------------------------------------------------------


def test_the_window_slides_over_the_previous_window():
    count = ratelimit.WindowCount(current=4, previous=10, elapsed=0.25, period=60)
    assert count.estimate == pytest.approx(11.5)
    # At most 9 once the previous window weighs 0.5 or less: a quarter of a period on.
    assert count.seconds_until_at_most(9) == 15
    # A full current window: its end, then until its hits have faded to 9 of 10 (a tenth on).
    full = ratelimit.WindowCount(current=10, previous=0, elapsed=0.5, period=60)
    assert full.seconds_until_at_most(9) == 36


def test_database_counts_increment_per_key_and_window():
    assert ratelimit.hit("k", 60, now=600.0).current == 1
    assert ratelimit.hit("k", 60, now=610.0).current == 2
    assert ratelimit.hit("other", 60, now=610.0).current == 1
    next_window = ratelimit.hit("k", 60, now=665.0)
    assert (next_window.current, next_window.previous) == (1, 2)
    assert ratelimit.peek("k", 60, now=665.0).current == 1


def test_prune_expired_deletes_the_counts_no_window_reads_any_more(monkeypatch):
    ratelimit.hit("daily", 86400, now=time.time())
    ratelimit.hit("stale", 60, now=time.time() - 121)  # Its window can no longer be anyone's previous one.
    ratelimit.hit("recent", 60, now=time.time() - 30)
    call_command("prune_expired", stdout=io.StringIO())
    assert sorted(RateCounter.objects.values_list("key", flat=True)) == ["daily", "recent"]


def test_a_late_hit_from_the_window_before_counts_in_the_newer_one():
    ratelimit.hit("k", 60, now=600.0)
    ratelimit.hit("k", 60, now=661.0)
    late = ratelimit.hit("k", 60, now=659.9)
    assert (late.current, late.previous) == (2, 1)


def test_a_hit_after_a_quiet_window_starts_afresh():
    ratelimit.hit("k", 60, now=600.0)
    later = ratelimit.hit("k", 60, now=800.0)
    assert (later.current, later.previous) == (1, 0)


def test_redis_counts_increment_per_key_and_window(private_redis):
    assert ratelimit.hit("k", 60, now=600.0).current == 1
    assert ratelimit.hit("k", 60, now=610.0).current == 2
    next_window = ratelimit.hit("k", 60, now=665.0)
    assert (next_window.current, next_window.previous) == (1, 2)
    assert not RateCounter.objects.exists()


def test_an_unreachable_redis_lets_requests_through(settings, rates, manager_client):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # Nothing listens on port 1.
    rates(user="1/min")
    assert [manager_client.get(ME_URL).status_code for _ in range(3)] == [200, 200, 200]


def test_authenticated_users_have_a_request_rate_limit(manager_client, rates):
    rates(user="3/min")
    statuses = [manager_client.get(ME_URL).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_a_request_with_an_idempotency_key_is_counted_once(manager_client, rates):
    rates(user="3/min")
    statuses = [
        manager_client.post(
            "/api/v1/crm/customers", {"company_name": f"Co {i}"}, format="json", HTTP_IDEMPOTENCY_KEY=f"key-{i}"
        ).status_code
        for i in range(4)
    ]
    assert statuses == [201, 201, 201, 429]


def _concurrent_requests(user, *, threads: int, each: int) -> list[int]:
    from crm_project.core.api.tokens import CRMRefreshToken

    token = str(CRMRefreshToken.for_user(user).access_token)
    lock = threading.Lock()
    statuses: list[int] = []

    def worker():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        mine = [client.get(ME_URL).status_code for _ in range(each)]
        with lock:
            statuses.extend(mine)

    _results, errors = run_concurrently(worker, threads=threads)
    assert errors == []
    return statuses


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_user_rate_holds_under_concurrent_requests_in_the_database(manager, rates):
    rates(user="50/min")
    statuses = _concurrent_requests(manager, threads=8, each=10)
    assert len(statuses) == 80
    assert statuses.count(200) == 50
    assert statuses.count(429) == 30


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_user_rate_holds_under_concurrent_requests_in_redis(manager, rates, private_redis):
    rates(user="50/min")
    statuses = _concurrent_requests(manager, threads=8, each=10)
    assert statuses.count(200) == 50
    assert statuses.count(429) == 30


# --- sign-in failures per username ----------------------------------------------------------------


def _fail_from_ten_addresses(client, username="manager"):
    return [sign_in(client, username, "wrong", REMOTE_ADDR=f"10.0.0.{i}").status_code for i in range(10)]


def test_failures_for_one_username_from_many_addresses_are_limited(anon_client, manager):
    assert _fail_from_ten_addresses(anon_client) == [401] * 10
    assert sign_in(anon_client, "manager", "wrong", REMOTE_ADDR="10.0.0.99").status_code == 429


def test_the_owner_still_signs_in_with_the_right_password_while_guessers_are_refused(anon_client, manager):
    _fail_from_ten_addresses(anon_client)
    response = sign_in(anon_client, "manager", PASSWORD, REMOTE_ADDR="192.0.2.50")
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}


def test_an_address_that_guessed_wrong_gets_no_more_tries_even_with_the_right_password(anon_client, manager):
    _fail_from_ten_addresses(anon_client)
    assert sign_in(anon_client, "manager", PASSWORD, REMOTE_ADDR="10.0.0.3").status_code == 429


def test_successful_sign_ins_do_not_count_against_the_username(anon_client, manager):
    statuses = [sign_in(anon_client, "manager", PASSWORD, REMOTE_ADDR=f"10.0.1.{i}").status_code for i in range(12)]
    assert statuses == [200] * 12


def test_the_address_limit_applies_to_a_right_password_too(anon_client, manager):
    for i in range(30):
        sign_in(anon_client, f"u{i}", "x", REMOTE_ADDR="192.0.2.77")
    assert sign_in(anon_client, "manager", PASSWORD, REMOTE_ADDR="192.0.2.77").status_code == 429
