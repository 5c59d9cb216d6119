"""
OpenAPI generation that documents every answer an operation can give, not only its 2xx:
drf-spectacular lists no 4xx unless told, and the schema fuzzing in CI checks each status
the server sends against the schema.

The document is also what typed clients are generated from (a test generates one and runs the
workflows through it), so every shape that a client would make a type of has a name: the
error shapes, hand-written bodies (``NamedSchema``) and every choice set, query parameters'
included.
"""

from __future__ import annotations

import re

import uritemplate
from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import (
    ComponentIdentity,
    ResolvedComponent,
    build_bearer_security_scheme_object,
    list_hash,
    load_enum_name_overrides,
)
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from inflection import camelize
from rest_framework.permissions import AllowAny

from .components import ERROR_DETAIL, VALIDATION_ERROR, NamedSchema
from .fields import MONEY_TEXT_PATTERN
from .permissions import HasCRMRole

# A character that Python's ``str.strip()`` keeps: text that DRF trims to nothing has none.
# Spelled out, because regex engines disagree on what `\s` matches (U+001C to U+001F, U+0085).
_WHITE_SPACE = "".join(f"\\u{code:04x}" for code in range(0x3001) if chr(code).isspace())  # U+3000 is the last
VISIBLE_CHARACTER_PATTERN = f"[^{_WHITE_SPACE}]"
BLANK_TEXT_PATTERN = f"^[{_WHITE_SPACE}]*$"


ERROR_RESPONSES = {
    "400": ("Invalid input; the body names each faulty field.", VALIDATION_ERROR),
    "401": ("Missing, invalid or expired credentials.", ERROR_DETAIL),
    "403": ("Your role does not allow this.", ERROR_DETAIL),
    "404": ("No such record, or not visible to you (also a page past the end).", ERROR_DETAIL),
    "409": ("The record's current state forbids this; nothing was changed.", ERROR_DETAIL),
    "412": ("`If-Match` no longer matches the record; nothing was changed.", ERROR_DETAIL),
    "413": ("The request body is too large.", ERROR_DETAIL),
    "415": ("The request body is not JSON.", ERROR_DETAIL),
    "422": ("`Idempotency-Key` reused with a different request.", ERROR_DETAIL),
    "429": ("Too many requests; retry after `Retry-After` seconds.", ERROR_DETAIL),
    "503": ("The database is unavailable; retry after `Retry-After` seconds.", ERROR_DETAIL),
}

IF_MATCH = OpenApiParameter(
    name="If-Match",
    location=OpenApiParameter.HEADER,
    required=False,
    description="An `ETag` from a previous GET: the change is refused with 412 if the record changed since.",
    type=str,
)
IDEMPOTENCY_KEY = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "A client-chosen key (up to 255 characters): a retry with the same key and body within "
        "24 hours returns the first answer without doing the work again."
    ),
    # Not blank, as the middleware requires.
    type={"type": "string", "minLength": 1, "maxLength": 255, "pattern": VISIBLE_CHARACTER_PATTERN},
)


class CRMAutoSchema(AutoSchema):
    def _has_path_parameters(self) -> bool:
        return bool(uritemplate.variables(self.path))

    def _is_open_endpoint(self) -> bool:
        return any(isinstance(permission, AllowAny) for permission in self.view.get_permissions())

    def _requires_role(self) -> bool:
        return any(isinstance(permission, HasCRMRole) for permission in self.view.get_permissions())

    def _error_statuses(self) -> set[str]:
        """The failures an operation of this shape can answer with."""
        codes = {"429", "503"}  # Every operation reads the database, which may be down.
        if not self._is_open_endpoint():
            codes.add("401")
        if self._requires_role():
            codes.add("403")
        if self._has_path_parameters():
            codes.add("404")
        if self.method == "GET":
            if self._is_list_view() or self._get_paginator():
                codes |= {"400", "404"}  # A bad filter; a page past the end.
            elif self.get_filter_backends() or self._get_parameters():
                codes.add("400")
            return codes | self._declared_extra_statuses()
        codes |= {"400", "413", "415"} if self.method in {"POST", "PUT", "PATCH"} else set()
        if self.method in {"PUT", "PATCH", "DELETE"}:
            codes |= {"409", "412"}
        if self.method == "POST" and not self._is_open_endpoint():
            codes |= {"409", "422"}
        return codes | self._declared_extra_statuses()

    def _declared_extra_statuses(self) -> set[str]:
        """A view may add statuses per action name or per method: ``{"close": ["409"]}``."""
        extra = getattr(self.view, "extra_error_statuses", {})
        action = getattr(self.view, "action", None)
        return {str(code) for key in (action, self.method) for code in extra.get(key, ())}

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        return self._component_refs(operation)

    def _component_refs(self, node):
        """``node`` with each ``NamedSchema`` in it registered as a component and replaced by its ``$ref``."""
        if isinstance(node, NamedSchema):
            component = ResolvedComponent(
                name=node.name,
                type=ResolvedComponent.SCHEMA,
                schema=self._component_refs(dict(node)),
                # Two different schemas under one name are reported (a warning fails the check).
                object=ComponentIdentity(node),
            )
            self.registry.register_on_missing(component)
            return component.ref
        if isinstance(node, dict):
            return {key: self._component_refs(value) for key, value in node.items()}
        if isinstance(node, list):
            return [self._component_refs(value) for value in node]
        return node

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        return self._component_refs(super()._map_serializer_field(field, direction, bypass_extensions))

    def get_request_serializer(self):
        action = getattr(self.view, "action", None)
        get_input = getattr(self.view, "get_input_serializer_class", None)
        if get_input is not None and action in {"create", "update", "partial_update"}:
            # PUT is partial too: a client sends only the fields it changes.
            return get_input()(partial=action != "create")
        return super().get_request_serializer()

    def _get_request_for_media_type(self, serializer, direction="request"):
        schema, required = super()._get_request_for_media_type(serializer, direction)
        if isinstance(serializer, dict):
            # A schema given as is: required as a serializer's body is, when it asks for something.
            required = _body_is_required(serializer)
        return schema, required

    def get_override_parameters(self):
        params = list(super().get_override_parameters())
        if self.method in {"PUT", "PATCH", "DELETE"} and self._has_path_parameters():
            params.append(IF_MATCH)
        if self.method == "POST" and not self._is_open_endpoint():
            params.append(IDEMPOTENCY_KEY)
        return params

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in sorted(self._error_statuses() - responses.keys()):
            description, schema = ERROR_RESPONSES[code]
            responses[code] = self._get_response_for_code(OpenApiResponse(schema, description), code)
        return responses

    def _get_response_headers_for_code(self, status_code, direction="response"):
        headers = super()._get_response_headers_for_code(status_code, direction)
        if status_code in {"429", "503"}:
            headers["Retry-After"] = {"schema": {"type": "integer"}, "description": "Seconds to wait."}
        if status_code == "401":
            headers["WWW-Authenticate"] = {"schema": {"type": "string"}}
        if status_code in {"200", "201"} and getattr(self.view, "sends_etag", False) and self._has_path_parameters():
            headers["ETag"] = {"schema": {"type": "string"}, "description": "The record's version, for `If-Match`."}
        return headers


def _body_is_required(schema: dict) -> bool:
    """A body is required when each shape it may take requires something (a field, or being a list)."""
    shapes = schema.get("oneOf") or schema.get("anyOf")
    if shapes:
        return all(_body_is_required(shape) for shape in shapes)
    return bool(schema.get("required")) or schema.get("type") == "array"


class MoneyFieldSchema(OpenApiSerializerFieldExtension):
    """Money goes out as a JSON number; it comes in as a number or as exact text in cents."""

    target_class = "crm_project.core.api.fields.MoneyField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        number = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "response":
            return number
        number = {key: value for key, value in number.items() if key not in {"nullable", "readOnly", "writeOnly"}}
        return {"anyOf": [number, {"type": "string", "pattern": MONEY_TEXT_PATTERN}]}


class CRMJWTAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents the Bearer JWT scheme, so that Swagger UI's "Authorize" button works."""

    target_class = "crm_project.core.api.authentication.CRMJWTAuthentication"
    name = "jwtAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix="Bearer", bearer_format="JWT"
        )


def empty_query_values_mean_absent(result, generator, request, public):
    """
    An optional query parameter sent empty (``?status=``, as an HTML form sends an unset
    field) counts as absent: every filter, paging and ordering parameter reads it so.
    """
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
    return result


def _request_schemas(result):
    """Every schema a client sends: the ``...Request`` components and inline request bodies."""
    for name, schema in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request"):
            yield schema
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if isinstance(operation, dict):
                for media in operation.get("requestBody", {}).get("content", {}).values():
                    yield media.get("schema", {})


def non_blank_text_has_a_visible_character(result, generator, request, public):
    """
    Text fields that may not be blank are trimmed first (DRF's ``trim_whitespace``), so
    ``"   "`` is as blank as ``""``: such a field needs one character that is not white space.
    """
    stack = list(_request_schemas(result))
    while stack:
        schema = stack.pop()
        if not isinstance(schema, dict):
            continue
        if (
            schema.get("type") == "string"
            and schema.get("minLength", 0) >= 1
            and not {"pattern", "format", "enum"} & schema.keys()
        ):
            schema["pattern"] = VISIBLE_CHARACTER_PATTERN
        stack.extend(schema.get("properties", {}).values())
        stack.extend(schema.get(key) for key in ("items", "additionalProperties") if isinstance(schema.get(key), dict))
        for key in ("anyOf", "oneOf", "allOf"):
            stack.extend(schema.get(key, []))
    return result


def paths_without_trailing_slash(result, generator, request, public):
    """Document paths without a trailing slash (``/crm/leads``); the slashed form works too."""
    result["paths"] = {(path.rstrip("/") or "/"): item for path, item in result.get("paths", {}).items()}
    return result


def query_enums_as_components(result, generator, request, public):
    """
    A query parameter's choices become a named component, as a body field's do, so that a client
    has one type per choice set: the component of the same choices where there is one
    (``?status=`` on the lead list is ``LeadStatusEnum``), else the name ENUM_NAME_OVERRIDES
    gives them, else one after the listed record and the parameter (``?ordering=`` on the lead
    list is ``LeadOrderingEnum``).
    """
    schemas = result["components"]["schemas"]
    names = {frozenset(schema["enum"]): name for name, schema in schemas.items() if "enum" in schema}
    overrides = load_enum_name_overrides()
    for operation in _operations(result):
        for parameter in operation.get("parameters", []):
            holder, key = parameter, "schema"
            if parameter["schema"].get("type") == "array":
                holder, key = parameter["schema"], "items"
            choices = holder[key].get("enum")
            if parameter["in"] != "query" or choices is None:
                continue
            name = (
                names.get(frozenset(choices))
                or overrides.get(list_hash([(choice, choice) for choice in choices]))
                or f"{_listed_record(operation)}{camelize(parameter['name'])}Enum"
            )
            schemas.setdefault(name, {"type": "string", "enum": choices})
            names[frozenset(choices)] = name
            holder[key] = {"$ref": f"#/components/schemas/{name}"}
    result["components"]["schemas"] = dict(sorted(schemas.items()))
    return result


def _operations(result):
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if isinstance(operation, dict):
                yield operation


def _listed_record(operation: dict) -> str:
    """``Lead`` for an operation answering a ``PaginatedLeadList``; its operation id otherwise."""
    schema = operation["responses"].get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
    match = re.fullmatch(r"#/components/schemas/Paginated(\w+)List", schema.get("$ref", ""))
    return match.group(1) if match else camelize(operation["operationId"])
