"""
Schemas that the OpenAPI document names once and refers to by ``$ref``: the error shapes every
operation shares, and JSON objects of any shape. ``CRMAutoSchema`` turns each ``NamedSchema``
it meets into such a component.
"""

from __future__ import annotations


class NamedSchema(dict):
    """
    A hand-written schema that the document holds once, under ``components/schemas/<name>``,
    and refers to by ``$ref`` wherever it is used: client generators make one type of it,
    named after it, instead of one anonymous type per place.

    It may be a request (``{"application/json": NAMED}``) or a response of ``extend_schema``,
    or sit inside another schema (``{"oneOf": [NAMED, ...]}``). At the top of a field's or a
    parameter's schema it is copied, not named: nest it there (``{"allOf": [NAMED]}``).
    """

    def __init__(self, name: str, schema: dict):
        super().__init__(schema)
        self.name = name


ERROR_DETAIL = NamedSchema(
    "ErrorDetail",
    {
        "type": "object",
        "description": "Why the request failed. Some answers add keys of their own beside `detail`.",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
)

_MESSAGES = {"type": "array", "items": {"type": "string"}}
VALIDATION_ERROR = NamedSchema(
    "ValidationError",
    {
        "type": "object",
        "description": (
            'What is wrong with the request. Each faulty field names its messages (`{"email": '
            '["message"]}`); a list or object field holds an object of the same shape, keyed by '
            "position or key. `non_field_errors` holds what concerns several fields together; "
            "`detail` alone answers a request that cannot be read at all."
        ),
        "properties": {
            "non_field_errors": {**_MESSAGES, "description": "What concerns several fields together."},
            "detail": {"type": "string", "description": "Why the request cannot be read (a malformed body)."},
        },
        "additionalProperties": {"oneOf": [_MESSAGES, {"$ref": "#/components/schemas/ValidationError"}]},
    },
)

JSON_OBJECT = NamedSchema(
    "JSONObject",
    {"type": "object", "additionalProperties": {}, "description": "A JSON object of any keys and values."},
)
