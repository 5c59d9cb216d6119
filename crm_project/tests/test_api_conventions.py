"""The conventions of every endpoint (pages, errors, ETags, throttles, CORS), proven on the customer list."""

from unittest import mock

import pytest
from django.db import IntegrityError, OperationalError, connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from crm_project.core.api.exception_handler import crm_exception_handler
from crm_project.core.errors import server_error
from crm_project.core.exceptions import Conflict, PreconditionFailed
from crm_project.core.integrity import violation_for
from customers.models import Customer
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/crm/customers"


# --- pagination ----------------------------------------------------------------------------


def test_list_answer_has_the_contract_shape_and_defaults_to_50(manager_client):
    CustomerFactory.create_batch(51)
    body = manager_client.get(URL).json()
    assert list(body) == ["count", "page", "page_size", "total_pages", "next", "previous", "results"]
    assert (body["count"], body["page"], body["page_size"], body["total_pages"]) == (51, 1, 50, 2)
    assert len(body["results"]) == 50
    assert body["previous"] is None and "page=2" in body["next"]


def test_page_size_is_clamped_at_200(manager_client):
    CustomerFactory.create_batch(3)
    body = manager_client.get(URL + "?page_size=5000").json()
    assert body["page_size"] == 200


def test_second_page(manager_client):
    CustomerFactory.create_batch(3)
    body = manager_client.get(URL + "?page=2&page_size=2").json()
    assert (body["page"], len(body["results"]), body["next"]) == (2, 1, None)


def test_a_short_last_page_still_asks_the_database_for_a_whole_page(manager_client):
    # LIMIT cut to the rows left (Django's default) makes PostgreSQL walk the whole date
    # index for a search with one match; the rows returned are the same either way.
    CustomerFactory.create_batch(3)
    with CaptureQueriesContext(connection) as captured:
        body = manager_client.get(URL + "?page=2&page_size=2").json()
    assert len(body["results"]) == 1
    page_query = next(
        q["sql"]
        for q in captured.captured_queries
        if 'FROM "customers_customer"' in q["sql"] and "ORDER BY" in q["sql"]
    )
    assert page_query.endswith("LIMIT 2 OFFSET 2")


def test_a_first_page_that_is_not_full_is_its_own_count(manager_client):
    CustomerFactory.create_batch(3)
    with CaptureQueriesContext(connection) as captured:
        body = manager_client.get(URL + "?page_size=5").json()
    assert (body["count"], body["total_pages"], len(body["results"]), body["next"]) == (3, 1, 3, None)
    assert not [q for q in captured.captured_queries if "COUNT(*)" in q["sql"] and "customers_customer" in q["sql"]]


def test_a_full_first_page_is_counted(manager_client):
    CustomerFactory.create_batch(3)
    body = manager_client.get(URL + "?page_size=3").json()
    assert (body["count"], body["total_pages"], body["next"]) == (3, 1, None)
    body = manager_client.get(URL + "?page_size=2").json()
    assert (body["count"], body["total_pages"], len(body["results"])) == (3, 2, 2)
    assert "page=2" in body["next"]


def test_a_page_past_the_end_is_404(manager_client):
    CustomerFactory.create_batch(3)
    assert manager_client.get(URL + "?page=3&page_size=2").status_code == 404


def test_the_first_page_of_an_empty_list_is_an_empty_page(manager_client):
    body = manager_client.get(URL).json()
    assert (body["count"], body["results"], body["total_pages"]) == (0, [], 1)


@pytest.mark.parametrize("query", ["page=0", "page=abc", "page=-1", "page_size=0", "page_size=x"])
def test_malformed_paging_is_400_naming_the_parameter(manager_client, query):
    response = manager_client.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


# --- paths -------------------------------------------------------------------------------------


def test_paths_work_with_and_without_trailing_slash(manager_client):
    assert manager_client.get(URL).status_code == 200
    assert manager_client.get(URL + "/").status_code == 200
    created = manager_client.post(URL + "/", {"company_name": "Slash Ltd"}, format="json")
    assert created.status_code == 201
    assert manager_client.get(f"{URL}/{created.json()['id']}/").status_code == 200


# --- bodies ------------------------------------------------------------------------------------


def post_raw(client, body: bytes, content_type="application/json"):
    return client.generic("POST", URL, body, content_type=content_type)


def test_malformed_json_is_400(manager_client):
    response = post_raw(manager_client, b'{"company_name": ')
    assert response.status_code == 400
    assert "detail" in response.json()


def test_deeply_nested_json_is_400_not_a_recursion_error(manager_client):
    response = post_raw(manager_client, b'{"company_name": "X", "a": ' + b"[" * 5000 + b"]" * 5000 + b"}")
    assert response.status_code == 400


def test_moderately_nested_json_beyond_the_limit_is_400(manager_client):
    response = post_raw(manager_client, b'{"company_name": "X", "a": ' + b"[" * 40 + b"]" * 40 + b"}")
    assert response.status_code == 400
    assert "nested" in response.json()["detail"]


@pytest.mark.parametrize("body", [b'{"company_name": "A\\u0000B"}', b'{"company_name": "ok", "k\\u0000": 1}'])
def test_nul_characters_are_400(manager_client, body):
    response = post_raw(manager_client, body)
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]
    assert not Customer.objects.exists()


def test_non_utf8_body_is_400(manager_client):
    assert post_raw(manager_client, '{"company_name": "Café"}'.encode("latin-1")).status_code == 400


def test_wrong_content_type_is_415(manager_client):
    response = post_raw(manager_client, b"company_name=X", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415


def test_an_over_size_body_is_413(manager_client, settings):
    settings.API_MAX_BODY_BYTES = 1000
    response = post_raw(manager_client, b'{"company_name": "' + b"x" * 2000 + b'"}')
    assert response.status_code == 413


def test_a_json_array_where_an_object_is_expected_is_400(manager_client):
    response = post_raw(manager_client, b'["company_name"]')
    assert response.status_code == 400


def test_an_empty_body_names_the_required_fields(manager_client):
    response = post_raw(manager_client, b"")
    assert response.status_code == 400
    assert "company_name" in response.json()


# --- optimistic concurrency ------------------------------------------------------------------


def test_if_match_with_a_stale_etag_is_412_and_changes_nothing(manager_client):
    customer = CustomerFactory(city="Pune")
    etag = manager_client.get(f"{URL}/{customer.pk}")["ETag"]
    manager_client.patch(f"{URL}/{customer.pk}", {"city": "Delhi"}, format="json")

    stale = manager_client.patch(f"{URL}/{customer.pk}", {"city": "Goa"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    customer.refresh_from_db()
    assert customer.city == "Delhi"
    assert manager_client.delete(f"{URL}/{customer.pk}", HTTP_IF_MATCH=etag).status_code == 412
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_if_match_with_the_current_etag_or_star_succeeds(manager_client):
    customer = CustomerFactory()
    etag = manager_client.get(f"{URL}/{customer.pk}")["ETag"]
    response = manager_client.put(f"{URL}/{customer.pk}", {"city": "Goa"}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag
    assert (
        manager_client.patch(f"{URL}/{customer.pk}", {"city": "X"}, format="json", HTTP_IF_MATCH="*").status_code == 200
    )
    weak = "W/" + response["ETag"]
    assert (
        manager_client.patch(f"{URL}/{customer.pk}", {"city": "Y"}, format="json", HTTP_IF_MATCH=weak).status_code
        == 412
    )


# --- errors -----------------------------------------------------------------------------------


def test_an_integrity_error_is_mapped_to_the_constraints_field():
    customer = CustomerFactory()
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(annual_spend=-1)
    violation = violation_for(caught.value)
    assert violation is not None
    assert (violation.field, violation.message) == ("annual_spend", "Annual spend cannot be negative.")
    response = crm_exception_handler(caught.value, {"view": None})
    assert response.status_code == 400
    assert response.data == {"annual_spend": ["Annual spend cannot be negative."]}


def test_a_unique_field_violation_is_mapped_to_the_field():
    CustomerFactory(customer_code="CUST-000777")
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        CustomerFactory(customer_code="CUST-000777")
    assert violation_for(caught.value).field == "customer_code"


def test_conflict_is_409_and_precondition_failed_is_412():
    assert crm_exception_handler(Conflict("closed"), {"view": None}).status_code == 409
    assert crm_exception_handler(PreconditionFailed(), {"view": None}).status_code == 412


def test_an_unexpected_error_is_a_json_500_without_a_traceback():
    response = crm_exception_handler(ZeroDivisionError("boom"), {"view": None})
    assert response.status_code == 500
    assert response.data == {"detail": "Internal server error."}


def test_database_outage_is_503_with_retry_after(manager_client):
    with mock.patch("customers.api.views.customer_list_visible_to", side_effect=OperationalError("down")):
        response = manager_client.get(URL)
    assert response.status_code == 503
    assert response["Retry-After"]
    assert response.json() == {"detail": "The database is unavailable; retry shortly."}


def test_djangos_500_page_is_json_under_the_api():
    response = server_error(RequestFactory().get("/api/v1/crm/leads"))
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"


# --- health ------------------------------------------------------------------------------------


def test_health_needs_no_auth_and_says_work_runs_inline_without_a_broker(anon_client, settings):
    settings.CELERY_BROKER_URL = ""
    response = anon_client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "inline"}


def test_an_unreachable_broker_is_reported_and_does_not_fail_the_health_check(anon_client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # Nothing listens there.
    response = anon_client.get("/health")
    assert response.status_code == 200
    assert response.json()["broker"] == "unavailable"


def test_a_broker_that_answers_is_ok(anon_client, settings):
    import redis

    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("needs Redis on 127.0.0.1:6379 (.ci/run starts one)")
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    assert anon_client.get("/health").json()["broker"] == "ok"


def test_health_is_503_when_the_database_is_unreachable(anon_client):
    with mock.patch("django.db.backends.utils.CursorWrapper.execute", side_effect=OperationalError("down")):
        response = anon_client.get("/health")
    assert response.status_code == 503


# --- throttling, CORS ------------------------------------------------------------------------


def test_the_token_endpoint_is_throttled_per_username(anon_client, manager):
    statuses = [
        anon_client.post(
            "/api/v1/auth/token", {"username": "manager", "password": "wrong"}, format="json", REMOTE_ADDR=f"10.0.0.{i}"
        ).status_code
        for i in range(11)
    ]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429


def test_the_token_endpoint_is_throttled_per_client_address(anon_client):
    statuses = [
        anon_client.post("/api/v1/auth/token", {"username": f"u{i}", "password": "x"}, format="json").status_code
        for i in range(31)
    ]
    assert statuses[-1] == 429
    assert set(statuses[:30]) == {401}


def test_a_throttled_answer_says_when_to_retry(anon_client):
    for i in range(31):
        response = anon_client.post("/api/v1/auth/token", {"username": f"u{i}", "password": "x"}, format="json")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0


def test_cors_is_closed_by_default(manager_client):
    response = manager_client.options(URL, HTTP_ORIGIN="https://evil.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
    assert "Access-Control-Allow-Origin" not in response


# --- what a new user tripped on --------------------------------------------------------------


def test_a_wrong_choice_in_a_body_names_the_valid_values(manager_client):
    customer = CustomerFactory()
    body = {"customer_id": str(customer.pk), "type": "call", "direction": "outbound", "subject": "Hello"}
    response = manager_client.post("/api/v1/crm/communications", body, format="json")
    assert response.status_code == 400
    assert response.json()["type"] == [
        '"call" is not a valid choice; choose one of: phone, email, meeting, video_call, chat, sms, visit, other.'
    ]


def test_a_wrong_choice_in_a_filter_names_the_valid_values(manager_client):
    response = manager_client.get("/api/v1/crm/leads", {"status": "bogus"})
    assert response.status_code == 400
    assert response.json()["status"] == [
        "bogus is not a valid choice; choose one of: new, contacted, qualified, converted, lost."
    ]


def test_a_date_in_the_wrong_format_says_a_plain_date_is_accepted_too(manager_client):
    body = {"company_name": "Lotus", "contact_person": "Meena", "email": "m@lotus.example"}
    response = manager_client.post("/api/v1/crm/leads", {**body, "next_follow_up_date": "31/12/2026"}, format="json")
    assert response.status_code == 400
    (message,) = response.json()["next_follow_up_date"]
    assert "a date (YYYY-MM-DD" in message and "ISO 8601 timestamp" in message


@pytest.mark.parametrize(
    "path", ["/api/v1/nothing-here", "/api/v1/crm/nothing-here", "/api/nothing", "/api/v1/crm/leads/0.5"]
)
@pytest.mark.parametrize("method", ["get", "post", "patch", "delete"])
@pytest.mark.parametrize("debug", [False, True])
def test_an_unknown_api_path_is_a_json_404_also_in_debug(manager_client, settings, path, method, debug):
    settings.DEBUG = debug
    # A client without a CSRF token, as API clients are: not a 403 either.
    manager_client.handler.enforce_csrf_checks = True
    response = getattr(manager_client, method)(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/crm/leads/analytics/summary", {"start_date": "2025-03-31", "end_date": "2025-03-01"}, "end_date"),
        (
            "/api/v1/crm/communications/analytics/engagement",
            {"start_date": "2025-03-31", "end_date": "2025-03-01"},
            "end_date",
        ),
        ("/api/v1/crm/opportunities", {"close_after": "2025-03-31", "close_before": "2025-03-01"}, "close_before"),
        ("segment performance", {"start_date": "2025-03-31", "end_date": "2025-03-01"}, "end_date"),
    ],
)
def test_a_range_that_ends_before_it_starts_is_refused_alike_everywhere(manager_client, path, params, field):
    if path == "segment performance":
        from segments.tests.factories import SegmentFactory

        path = f"/api/v1/crm/segments/{SegmentFactory().pk}/performance"
    response = manager_client.get(path, params)
    assert response.status_code == 400
    assert response.json()[field] == [f"The end of the range must not be before its start ({next(iter(params))})."]
    # A range of one day is fine.
    day = next(iter(params.values()))
    assert manager_client.get(path, dict.fromkeys(params, day)).status_code == 200
