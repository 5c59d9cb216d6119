"""
The OpenAPI document as a typed client reads it: every choice set is a named enum, the error
shapes are two shared components, every request body has a name, and every operation a human
summary in words meant for the API's users.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

import jsonschema
import pytest
from drf_spectacular.generators import SchemaGenerator

from customers.tests.factories import CustomerFactory
from segments.tests.factories import SegmentFactory

METHODS = ("get", "post", "put", "patch", "delete")


@cache
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def operations() -> list[tuple[str, str, dict]]:
    return [
        (method.upper(), path, operation)
        for path, item in schema()["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def operation_params() -> list:
    return [pytest.param(method, path, id=f"{method} {path}") for method, path, _ in operations()]


def operation(method: str, path: str) -> dict:
    return schema()["paths"][path][method.lower()]


def nodes(node, where: str = "") -> Iterator[tuple[str, object]]:
    """Every value in ``node`` with where it sits (``paths/.../schema/enum``)."""
    yield where, node
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield from nodes(child, f"{where}/{key}")


def component(name: str) -> dict:
    return schema()["components"]["schemas"][name]


def ref_name(node: dict) -> str | None:
    match = re.fullmatch(r"#/components/schemas/(\w+)", node.get("$ref", ""))
    return match.group(1) if match else None


def matches_component(name: str, instance) -> bool:
    """Whether ``instance`` is valid against the named component (its own ``$ref``s followed)."""
    validator = jsonschema.Draft4Validator({"$ref": f"#/components/schemas/{name}", **schema()})
    return validator.is_valid(instance)


# --- enums --------------------------------------------------------------------------------------


def test_every_choice_set_is_a_named_component():
    # An enum written where it is used becomes one anonymous type per place in a generated
    # client (or, wrapped in allOf, an empty object). Only a `not` may narrow one.
    inline = [
        where
        for where, node in nodes(schema())
        if isinstance(node, dict)
        and "enum" in node
        and not re.fullmatch(r"/components/schemas/\w+", where)
        and not where.endswith("/not")
    ]
    assert not inline, inline


def test_the_stage_history_names_its_stages_and_from_stage_may_be_null():
    properties = component("OpportunityStageChange")["properties"]
    assert properties["from_stage"]["nullable"] is True
    assert [ref_name(shape) for shape in properties["from_stage"]["oneOf"]] == ["OpportunityStageEnum", "NullEnum"]
    assert [ref_name(shape) for shape in properties["to_stage"]["allOf"]] == ["OpportunityStageEnum"]


def test_closing_has_its_own_stage_enum():
    assert component("ClosingStageEnum")["enum"] == ["closed_won", "closed_lost"]
    for shape in component("OpportunityCloseRequest")["oneOf"]:
        stage = component(ref_name(shape))["properties"]["stage"]
        assert [ref_name(part) for part in stage["allOf"]] == ["ClosingStageEnum"]


@pytest.mark.parametrize(
    ("path", "parameter", "enum"),
    [
        ("/api/v1/crm/leads", "status", "LeadStatusEnum"),
        ("/api/v1/crm/opportunities", "stage", "OpportunityStageEnum"),
        ("/api/v1/crm/communications", "type", "CommunicationTypeEnum"),
        ("/api/v1/users", "role", "SalesRoleEnum"),
    ],
)
def test_a_query_parameter_with_choices_refers_to_the_named_enum(path, parameter, enum):
    (found,) = [p for p in operation("GET", path)["parameters"] if p["name"] == parameter]
    assert ref_name(found["schema"]) == enum


def test_ordering_takes_a_list_of_a_named_enum_per_list():
    (ordering,) = [p for p in operation("GET", "/api/v1/crm/leads")["parameters"] if p["name"] == "ordering"]
    assert ref_name(ordering["schema"]["items"]) == "LeadOrderingEnum"
    assert {"created_at", "-created_at"} <= set(component("LeadOrderingEnum")["enum"])


@pytest.mark.parametrize(("method", "path"), [case for case in operation_params() if "{" in case.values[1]])
def test_every_record_id_in_a_path_is_a_uuid(method, path):
    # A typed client then takes the ids its models hold (opportunities route any segment).
    for parameter in operation(method, path)["parameters"]:
        if parameter["in"] == "path":
            assert parameter["schema"] == {"type": "string", "format": "uuid"}, parameter


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), operation_params())
def test_every_error_answer_refers_to_a_shared_error_component(method, path):
    for status, response in operation(method, path)["responses"].items():
        if status < "400":
            continue
        body = response["content"]["application/json"]["schema"]
        expected = "ValidationError" if status == "400" else "ErrorDetail"
        assert ref_name(body) == expected, f"{method} {path} {status}: {body}"


def test_an_error_detail_may_carry_keys_of_its_own():
    assert matches_component("ErrorDetail", {"detail": "Not found."})
    assert matches_component(
        "ErrorDetail", {"detail": "Merged.", "merged_into": "5b0c7f7e-0000-4000-8000-000000000000"}
    )
    assert matches_component("ErrorDetail", {"detail": "Token is invalid", "code": "token_not_valid", "messages": []})
    assert not matches_component("ErrorDetail", {"merged_into": "x"})


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param("/api/v1/crm/leads", {"company_name": ""}, id="field messages"),
        pytest.param("/api/v1/crm/segments/{segment}/assign-customers", {"customer_ids": ["x"]}, id="a list field"),
        pytest.param("/api/v1/crm/segments/{segment}/assign-customers", {"customer_ids": 7}, id="a wrong JSON type"),
        pytest.param("/api/v1/crm/communications", {"subject": "Call"}, id="a rule across fields"),
        pytest.param("/api/v1/crm/leads", b'{"company_name": ', id="an unreadable body"),
    ],
)
def test_the_api_s_400_answers_match_validation_error(manager_client, path, body):
    segment = SegmentFactory()
    CustomerFactory()
    url = path.format(segment=segment.pk)
    if isinstance(body, bytes):
        response = manager_client.generic("POST", url, body, content_type="application/json")
    else:
        response = manager_client.post(url, body, format="json")
    assert response.status_code == 400, response.content
    assert matches_component("ValidationError", response.json()), response.json()


def test_validation_error_refuses_what_no_400_answer_looks_like():
    assert not matches_component("ValidationError", {"email": "not a list"})
    assert not matches_component("ValidationError", {"detail": ["a list"]})


# --- request bodies -----------------------------------------------------------------------------


def request_body_cases() -> list:
    return [
        pytest.param(method, path, id=f"{method} {path}")
        for method, path, found in operations()
        if "requestBody" in found
    ]


@pytest.mark.parametrize(("method", "path"), request_body_cases())
def test_every_request_body_is_a_named_component(method, path):
    # JSON, or a form for an upload (the lead import).
    (media,) = operation(method, path)["requestBody"]["content"].values()
    body = media["schema"]
    name = ref_name(body)
    assert name, f"{method} {path} has an inline body: {body}"
    alternatives = component(name).get("oneOf", [])
    assert all(ref_name(shape) for shape in alternatives), f"{name} has an inline alternative"


def test_the_membership_body_is_an_object_of_ids_or_their_bare_list():
    shapes = [ref_name(shape) for shape in component("SegmentMembershipRequest")["oneOf"]]
    assert shapes == ["CustomerIdsRequest", "CustomerIdListRequest"]
    assert component("CustomerIdListRequest")["type"] == "array"


def test_json_objects_of_any_shape_share_one_component():
    criteria = component("Segment")["properties"]["criteria"]
    products = component("OpportunityInputRequest")["properties"]["products_interested"]
    assert [ref_name(shape) for shape in criteria["allOf"]] == ["JSONObject"]
    assert ref_name(products["oneOf"][0]) == "JSONObject"


# --- words for the API's users ------------------------------------------------------------------

# Words about the code or the project's own documents, not about the API.
INTERNAL_WORDING = re.compile(
    r"\bcontract\b|\bseed\b|visible_queryset|``|\bDRF\b|serializer|queryset|TIME_ZONE|\bself\b",
    re.IGNORECASE,
)


@pytest.mark.parametrize(("method", "path"), operation_params())
def test_every_operation_has_a_human_summary(method, path):
    found = operation(method, path)
    summary = found.get("summary", "")
    assert summary, f"{method} {path} has no summary"
    assert summary != found["operationId"] and "_" not in summary.split()[0], summary


def test_no_summary_or_description_speaks_of_the_code():
    leaks = [
        f"{where}: {text}"
        for where, text in nodes(schema())
        if where.endswith(("/description", "/summary")) and isinstance(text, str) and INTERNAL_WORDING.search(text)
    ]
    assert not leaks, "\n".join(leaks)
