"""
Personas and clients shared by every app's tests.

- ``manager``: in ``sales_manager``; sees and changes everything.
- ``rep`` and ``other_rep``: in ``sales_rep``; each sees their own records.
- ``no_role_user``: authenticated, in no CRM group (403 on ``/api/v1/crm``).
- ``client_for(user)``: an API client that sends a real Bearer access token.
"""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.test import APIClient

from crm_project.core.api.tokens import CRMRefreshToken
from crm_project.core.tests.factories import ManagerFactory, RepFactory, UserFactory


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings):
    """
    A private in-memory cache per test (and no webhook subscriptions kept from the last), a
    fast password hasher (the real one is slow by design), and no broker whatever the
    environment says.
    """
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # No broker unless a test starts one: background work runs in this process after commit.
    settings.CELERY_BROKER_URL = ""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}}
    # Kept for the whole test (forgotten when one is saved here, and between tests): query
    # counts do not depend on how long a test takes.
    settings.WEBHOOK_SUBSCRIPTIONS_CACHE_SECONDS = 3600
    from django.core.cache import cache

    from crm_project.core.webhooks.active import forget_subscriptions

    cache.clear()
    forget_subscriptions()  # A rolled-back test's subscriptions are not kept for the next one.
    yield
    cache.clear()
    forget_subscriptions()


def pytest_collection_modifyitems(config, items):
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (row locks and concurrent connections); set DATABASE_URL")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def manager(db):
    return ManagerFactory(username="manager")


@pytest.fixture
def rep(db):
    return RepFactory(username="rep")


@pytest.fixture
def other_rep(db):
    return RepFactory(username="other_rep")


@pytest.fixture
def no_role_user(db):
    return UserFactory(username="no_role")


@pytest.fixture
def superuser(db):
    return UserFactory(username="admin", is_superuser=True)


@pytest.fixture
def client_for(db):
    def make(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            token = CRMRefreshToken.for_user(user).access_token
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    return make


@pytest.fixture
def anon_client():
    return APIClient()


@pytest.fixture
def manager_client(client_for, manager):
    return client_for(manager)


@pytest.fixture
def rep_client(client_for, rep):
    return client_for(rep)


@pytest.fixture
def other_rep_client(client_for, other_rep):
    return client_for(other_rep)


@pytest.fixture
def no_role_client(client_for, no_role_user):
    return client_for(no_role_user)
