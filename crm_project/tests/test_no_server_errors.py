"""
No request gets a 500, however malformed. Every write endpoint of every app answers
each kind of bad body with a 4xx and a JSON body; every text and JSON field refuses a NUL,
every numeric field and query parameter a huge number, every path and filter a malformed
UUID, every date filter a date at the edge of the calendar; a unique constraint that a race
slips past is a 400 on its field.

The endpoints, fields and parameters come from the OpenAPI schema, so a new one is covered the
day it is added.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from functools import cache
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.apps import apps
from drf_spectacular.generators import SchemaGenerator

from communications.tests.factories import CommunicationFactory
from crm_project.core.integrity import _constraints_by_name
from crm_project.core.models import Job, WebhookDelivery, WebhookEvent, WebhookSubscription
from crm_project.core.tests.factories import ManagerFactory
from crm_project.merging.models import Merge
from customers.tests.factories import CustomerFactory
from leads.models import Lead
from leads.tests.factories import LeadFactory
from opportunities.models import Quota
from opportunities.tests.factories import OpportunityFactory
from segments.models import Segment
from segments.tests.factories import SegmentFactory

pytestmark = pytest.mark.django_db

WRITE_METHODS = ("post", "put", "patch")


# --- the API as its schema describes it ---------------------------------------------------------


@cache
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(methods=("get", *WRITE_METHODS, "delete")) -> list[tuple[str, str, dict]]:
    return [
        (method.upper(), path, operation)
        for path, item in schema()["paths"].items()
        for method, operation in item.items()
        if method in methods
    ]


def resolve(node: dict) -> dict:
    """A schema with its ``$ref`` followed, and the first shape of a ``oneOf``."""
    if "$ref" in node:
        node = schema()["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    if "oneOf" in node:
        node = resolve(node["oneOf"][0])
    return node


def shapes(node: dict) -> list[dict]:
    """The alternatives a value may take (``anyOf``), or the one schema."""
    return [resolve(shape) for shape in node.get("anyOf", [node])]


def body_fields(operation: dict) -> dict[str, dict]:
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if body is None:
        return {}
    body = resolve(body)
    return body.get("properties", {}) if body.get("type") == "object" else {}


def cases(select) -> list:
    """``pytest.param``s of ``select(method, path, operation)``'s yields, named after them."""
    found = []
    for method, path, operation in operations():
        for case in select(method, path, operation):
            found.append(pytest.param(method, path, *case, id=f"{method} {path} {case[0]}"))
    return found


def write_operations() -> list:
    return [pytest.param(method, path, id=f"{method} {path}") for method, path, _ in operations(WRITE_METHODS)]


def takes_json(method: str, path: str) -> bool:
    body = schema()["paths"][path][method.lower()].get("requestBody")
    return body is None or "application/json" in body["content"]


def text_and_json_fields(method, path, operation):
    for name, field in body_fields(operation).items():
        types = {shape.get("type") for shape in shapes(field)}
        if "string" in types:
            yield name, "a\u0000b"
        elif types & {"object", "array", None}:
            yield name, {"note": "a\u0000b"} if "object" in types or None in types else ["a\u0000b"]


def numeric_fields(method, path, operation):
    for name, field in body_fields(operation).items():
        if {shape.get("type") for shape in shapes(field)} & {"integer", "number"}:
            yield (name,)


def numeric_query_parameters(method, path, operation):
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "query" and {s.get("type") for s in shapes(parameter["schema"])} & {"integer", "number"}:
            yield (parameter["name"],)


def uuid_query_parameters(method, path, operation):
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "query" and parameter["schema"].get("format") == "uuid":
            yield (parameter["name"],)


def date_query_parameters(method, path, operation):
    for parameter in operation.get("parameters", []):
        formats = {shape.get("format") for shape in shapes(parameter["schema"])}
        if parameter["in"] == "query" and formats & {"date", "date-time"}:
            yield (parameter["name"],)


def text_query_parameters(method, path, operation):
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "query" and parameter["schema"] == {"type": "string"}:
            yield (parameter["name"],)


def paths_with_ids(method, path, operation):
    if "{" in path:
        yield ("id",)


# --- the schema tells every answer ---------------------------------------------------------------


def errors_each_operation_can_give(method: str, path: str, operation: dict) -> set[str]:
    expected = {"429", "503"}
    if operation.get("security") != [{}] and "jwtAuth" in str(operation.get("security")):
        expected.add("401")
    if path.startswith(("/api/v1/crm/", "/api/v1/users")):
        expected.add("403")
    if "{" in path:
        expected.add("404")
    if method in {"POST", "PUT", "PATCH"}:
        expected |= {"400", "413", "415"}
    if method in {"PUT", "PATCH", "DELETE"}:
        expected |= {"409", "412"}
    if method == "POST" and "401" in expected:
        expected |= {"409", "422"}  # A state conflict; an Idempotency-Key reused.
    return expected


@pytest.mark.parametrize(("method", "path"), [pytest.param(m, p, id=f"{m} {p}") for m, p, _ in operations()])
def test_every_operation_documents_the_errors_it_can_answer(method, path):
    operation = schema()["paths"][path][method.lower()]
    missing = errors_each_operation_can_give(method, path, operation) - set(operation["responses"])
    assert not missing, f"{method} {path} does not document {sorted(missing)}"


# --- records to act on --------------------------------------------------------------------------

COLLECTION_RECORD = {
    "jobs": "job",
    "customers": "customer",
    "leads": "lead",
    "opportunities": "opportunity",
    "communications": "communication",
    "segments": "segment",
    "webhooks": "webhook",
    "merges": "merge",
    "quotas": "quota",
}


@pytest.fixture
def records() -> dict:
    customer = CustomerFactory()
    webhook = WebhookSubscription.objects.create(url="https://hooks.example.com/crm", events=["*"], secret="whsec_t")
    event = WebhookEvent.objects.create(type="customer.created", record_type="customer", record_id=customer.pk)
    return {
        "webhook": webhook,
        "delivery": WebhookDelivery.objects.create(subscription=webhook, event=event, seq=event.pk),
        "customer": customer,
        "lead": LeadFactory(),
        "opportunity": OpportunityFactory(customer=customer),
        "communication": CommunicationFactory(customer=customer),
        "segment": SegmentFactory(),
        "job": Job.objects.create(kind="lead_export"),
        # A merge that moved nothing: its undo has nothing to refuse.
        "merge": Merge.objects.create(kind="customer", survivor_id=customer.pk),
        "quota": Quota.objects.create(user=ManagerFactory(), period_start=dt.date(2026, 1, 1), amount=1000),
    }


def url(path: str, records: dict, malformed_id: str | None = None) -> str:
    """The path with real ids of ``records`` in it (or ``malformed_id`` in every place)."""

    def value(match: re.Match) -> str:
        if malformed_id is not None:
            return malformed_id
        name = match.group(1)
        collection = path.removeprefix("/api/v1/").removeprefix("crm/").split("/")[0]
        record = COLLECTION_RECORD[collection] if name == "id" else name.removesuffix("_id")
        return str(records[record].pk)

    return re.sub(r"\{(\w+)\}", value, path)


def send(client, method: str, target: str, body: bytes, content_type: str = "application/json", **headers):
    return client.generic(method, target, body, content_type=content_type, **headers)


def query(client, method: str, target: str, params: dict):
    """The operation's own method (a GET, or the POST of an export) with ``params`` as its query."""
    return client.generic(method, f"{target}?{urlencode(params)}")


def as_json(data) -> bytes:
    return json.dumps(data).encode()


def assert_json_client_error(response, status: int | None = None) -> dict:
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    if status is not None:
        assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    return response.json()


# --- bad bodies on every write ------------------------------------------------------------------

BAD_BODIES = {
    "malformed JSON": (b'{"name": ', "application/json", 400),
    "white space alone": (b"\n  ", "application/json", 400),
    "a deeply nested body": (b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}", "application/json", 400),
    "a body nested past the limit": (b'{"a": ' + b"[" * 40 + b"]" * 40 + b"}", "application/json", 400),
    "a NUL in a string": (b'{"name": "a\\u0000b"}', "application/json", 400),
    "a NUL in a key": (b'{"na\\u0000me": "a"}', "application/json", 400),
    "a body that is not UTF-8": ('{"name": "Café"}'.encode("latin-1"), "application/json", 400),
    "a lone surrogate": (b'{"name": "\\ud800"}', "application/json", 400),
    "a form instead of JSON": (b"name=Acme", "application/x-www-form-urlencoded", 415),
    "plain text instead of JSON": (b"Acme", "text/plain", 415),
    "an over-size body": (b'{"name": "' + b"x" * 30_000 + b'"}', "application/json", 413),
}
BODY_LIMIT = 20_000  # Over every bad body above but the over-size one.


@pytest.mark.parametrize("kind", BAD_BODIES)
@pytest.mark.parametrize(("method", "path"), write_operations())
def test_every_write_answers_a_bad_body_with_a_json_4xx(manager_client, records, settings, method, path, kind):
    settings.API_MAX_BODY_BYTES = BODY_LIMIT
    body, content_type, status = BAD_BODIES[kind]
    if not takes_json(method, path):
        status = 415  # An upload's form (the lead import) is the only body such an operation takes.
    response = send(manager_client, method, url(path, records), body, content_type)
    assert_json_client_error(response, status)


@pytest.mark.parametrize(("method", "path"), write_operations())
def test_an_over_size_body_with_an_idempotency_key_is_413(manager_client, records, settings, method, path):
    settings.API_MAX_BODY_BYTES = settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = b'{"name": "' + b"x" * 2000 + b'"}'
    response = send(manager_client, method, url(path, records), body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert_json_client_error(response, 413)


# --- every field --------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "field", "value"), cases(text_and_json_fields))
def test_a_nul_in_any_text_or_json_field_is_400(manager_client, records, method, path, field, value):
    response = send(manager_client, method, url(path, records), as_json({field: value}))
    body = assert_json_client_error(response, 400)
    assert "NUL" in body["detail"]


HUGE_NUMBERS = [10**30, -(10**30), 1e308, 2**64]


@pytest.mark.parametrize("number", HUGE_NUMBERS, ids=str)
@pytest.mark.parametrize(("method", "path", "field"), cases(numeric_fields))
def test_a_huge_number_in_any_numeric_field_is_400_on_that_field(manager_client, records, method, path, field, number):
    response = send(manager_client, method, url(path, records), as_json({field: number}))
    body = assert_json_client_error(response, 400)
    assert field in body


HUGE_QUERY_VALUES = ["1" + "0" * 30, "-" + "9" * 30, "1e308", "9" * 400]


@pytest.mark.parametrize("value", HUGE_QUERY_VALUES, ids=lambda value: value[:12])
@pytest.mark.parametrize(("method", "path", "parameter"), cases(numeric_query_parameters))
def test_a_huge_number_in_any_query_parameter_is_answered_without_a_server_error(
    manager_client, records, method, path, parameter, value
):
    response = query(manager_client, method, url(path, records), {parameter: value})
    if response.status_code < 300:  # page_size: clamped to 200.
        assert parameter == "page_size"
    else:
        assert parameter in assert_json_client_error(response) or response.status_code == 404


@pytest.mark.parametrize(("method", "path", "parameter"), cases(text_query_parameters))
def test_a_nul_in_any_text_query_parameter_is_answered_without_a_server_error(
    manager_client, records, method, path, parameter
):
    # PostgreSQL cannot compare text with a NUL (400); SQLite simply finds nothing.
    response = query(manager_client, method, url(path, records), {parameter: "a\u0000b"})
    assert response.status_code in {200, 400}, response.content[:300]
    assert response["Content-Type"] == "application/json"


MALFORMED_UUIDS = ["not-a-uuid", "0" * 33, "00000000-0000-0000-0000-00000000000g"]


@pytest.mark.parametrize("value", MALFORMED_UUIDS)
@pytest.mark.parametrize(("method", "path", "_"), cases(paths_with_ids))
def test_a_malformed_uuid_in_any_path_is_404(manager_client, records, method, path, _, value):
    response = send(manager_client, method, url(path, records, malformed_id=value), b"{}")
    assert_json_client_error(response, 404)


# Spaces alone are no id either (Django strips a value first, which made them "no filter").
@pytest.mark.parametrize("value", [*MALFORMED_UUIDS, "\n", "  "])
@pytest.mark.parametrize(("method", "path", "parameter"), cases(uuid_query_parameters))
def test_a_malformed_uuid_in_any_filter_is_400_naming_it(manager_client, records, method, path, parameter, value):
    response = query(manager_client, method, url(path, records), {parameter: value})
    assert parameter in assert_json_client_error(response, 400)


EDGE_DATES = [
    "9999-12-31",  # its whole day ends after the last representable instant
    "0001-01-01T00:00:00+01:00",  # before the first instant in UTC
    "9999-12-31T23:00:00-05:00",  # after the last instant in UTC
    "10000-01-01",
    "0000-01-01",
    "2025-02-30",
    "2025-13-01",
    "2025-12-31T25:00:00Z",
]


@pytest.mark.parametrize("value", EDGE_DATES)
@pytest.mark.parametrize(("method", "path", "parameter"), cases(date_query_parameters))
def test_a_date_at_the_edge_of_the_calendar_in_any_date_filter_is_400_naming_it(
    manager_client, records, method, path, parameter, value
):
    response = query(manager_client, method, url(path, records), {parameter: value})
    assert parameter in assert_json_client_error(response, 400)


@pytest.mark.parametrize(("method", "path", "parameter"), cases(date_query_parameters))
def test_a_utc_offset_that_postgresql_refuses_is_read_as_the_same_instant(
    manager_client, records, method, path, parameter
):
    # ISO 8601 allows offsets up to ±23:59, PostgreSQL up to ±15:59.
    response = query(manager_client, method, url(path, records), {parameter: "2025-06-01T12:00:00-22:10"})
    assert response.status_code in {200, 202, 404}, response.content[:300]


# --- unique constraints a race slips past -------------------------------------------------------

LEADS = "/api/v1/crm/leads"
SEGMENTS = "/api/v1/crm/segments"
NEW_LEAD = {"company_name": "Acme", "contact_person": "Asha", "email": "Buyer@Acme.example"}
NEW_SEGMENT = {"name": "Gold", "code": "gold"}


@pytest.fixture(params=["friendly check", "constraint alone"])
def unique_checks(request):
    """Run a test with the services' pre-checks on, then with them off (a race's view)."""
    if request.param == "friendly check":
        yield
        return
    with (
        mock.patch("leads.services.records.check_email_free"),
        mock.patch("segments.services._check_code_free"),
    ):
        yield


def test_a_lead_email_taken_in_another_case_is_400_on_email_on_create(manager_client, unique_checks):
    LeadFactory(email="buyer@acme.example")
    response = manager_client.post(LEADS, NEW_LEAD, format="json")
    assert "email" in assert_json_client_error(response, 400)
    assert Lead.objects.count() == 1


def test_a_lead_email_taken_in_another_case_is_400_on_email_on_update(manager_client, unique_checks):
    LeadFactory(email="buyer@acme.example")
    lead = LeadFactory(email="other@acme.example")
    for method in ("put", "patch"):
        response = getattr(manager_client, method)(f"{LEADS}/{lead.pk}", {"email": "BUYER@acme.EXAMPLE"}, format="json")
        assert "email" in assert_json_client_error(response, 400)
    lead.refresh_from_db()
    assert lead.email == "other@acme.example"


def test_a_segment_code_taken_in_another_case_is_400_on_code(manager_client, unique_checks):
    SegmentFactory(code="GOLD")
    other = SegmentFactory(code="SILVER")
    assert "code" in assert_json_client_error(manager_client.post(SEGMENTS, NEW_SEGMENT, format="json"), 400)
    response = manager_client.patch(f"{SEGMENTS}/{other.pk}", {"code": "Gold"}, format="json")
    assert "code" in assert_json_client_error(response, 400)
    assert sorted(Segment.objects.values_list("code", flat=True)) == ["GOLD", "SILVER"]


DOMAIN_APPS = {"customers", "leads", "opportunities", "communications", "segments"}


@pytest.mark.parametrize(
    "constraint",
    [
        pytest.param(constraint, id=constraint.name)
        for model in apps.get_models()
        if model._meta.app_label in DOMAIN_APPS
        for constraint in model._meta.constraints
    ],
)
def test_every_domain_constraint_is_answered_in_its_own_words(constraint):
    # What a race that slips past a service's check gets back (400 on the field, or 409).
    violation = _constraints_by_name()[constraint.name]
    assert not violation.message.startswith("Constraint “"), f"{constraint.name} has no violation_error_message"
