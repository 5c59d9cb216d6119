"""
Input serializers that take JSON types at their word.

DRF coerces: ``"is_active": 0`` becomes ``False``, ``"notes": 12`` becomes ``"12"``,
``"assigned_to_id": true`` becomes user 1. A JSON API that documents a boolean, a string or an
integer answers anything else with 400 naming the field, as its schema promises; the schema
fuzzing in CI (``bench/fuzz``) checks exactly that. Query parameters are text by nature and are
left to the fields' own parsing.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from functools import cache

from django.http import QueryDict
from rest_framework import relations, serializers
from rest_framework.fields import empty

from .fields import NamedChoiceField

# (field classes, the JSON types they take, how to say so). The first match wins, so
# subclasses come before their bases (a ChoiceField is not a CharField; a UUIDField is one).
_JSON_TYPES: list[tuple[tuple[type, ...], tuple[type, ...], str]] = [
    ((serializers.BooleanField,), (bool,), "Must be true or false."),
    ((serializers.JSONField, serializers.SerializerMethodField), (object,), ""),
    ((serializers.DecimalField,), (int, float, str), "Must be a number."),
    ((serializers.IntegerField,), (int,), "Must be an integer."),
    ((serializers.FloatField,), (int, float), "Must be a number."),
    ((serializers.ListField, serializers.MultipleChoiceField, relations.ManyRelatedField), (list,), "Must be a list."),
    ((serializers.DictField, serializers.HStoreField), (dict,), "Must be an object."),
    ((serializers.BaseSerializer,), (dict, list), "Must be an object."),
    (
        (
            serializers.CharField,
            serializers.ChoiceField,
            serializers.UUIDField,
            serializers.DateTimeField,
            serializers.DateField,
            serializers.TimeField,
            serializers.DurationField,
        ),
        (str,),
        "Must be a string.",
    ),
]


@cache
def _json_rule(field_class: type) -> tuple[tuple[type, ...], str] | None:
    """The JSON types a field class takes, and how to say so; once per class (an import asks a million times)."""
    rule = next((rule for rule in _JSON_TYPES if issubclass(field_class, rule[0])), None)
    return None if rule is None else rule[1:]


def _accepts(field: serializers.Field, value: object) -> str | None:
    """The error for ``value`` in ``field``, or None when its JSON type is right."""
    if value is None:
        return None  # The field's own ``allow_null`` decides.
    if isinstance(field, relations.RelatedField) and value == "":
        return "Must not be blank; send null for no link."  # DRF would read "" as null.
    if isinstance(field, relations.PrimaryKeyRelatedField):
        # UUID primary keys travel as strings; integer ones (users) as numbers or their digits,
        # which the field itself checks.
        pk_is_text = isinstance(field.pk_field, (serializers.UUIDField, serializers.CharField))
        expected, message = ((str,), "Must be a string.") if pk_is_text else ((int, str), "Must be an integer.")
    else:
        rule = _json_rule(type(field))
        if rule is None:
            return None
        expected, message = rule
    if isinstance(value, bool) and bool not in expected:
        return message  # bool is an int to Python, never to JSON.
    if isinstance(field, serializers.IntegerField) and isinstance(value, float) and value.is_integer():
        return None  # JSON Schema counts 5.0 as an integer.
    return None if isinstance(value, expected) else message


class StrictJSONMixin:
    """Refuse a value of the wrong JSON type with 400 naming the field, before DRF coerces it."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping) and not isinstance(data, QueryDict):
            errors = {}
            for name, field in self.fields.items():
                if field.read_only:
                    continue
                value = data.get(field.field_name, empty)
                if value is empty:
                    continue
                message = _accepts(field, value)
                if message:
                    errors[name] = [message]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictSerializer(StrictJSONMixin, serializers.Serializer):
    pass


class StrictModelSerializer(StrictJSONMixin, serializers.ModelSerializer):
    # A model field with choices refuses a wrong value naming the valid ones.
    serializer_choice_field = NamedChoiceField


def api_field_names(model, writable_fields) -> list[str]:
    """
    The API's names for a service's writable fields, so that an input serializer takes
    exactly what its service may write (the service's tuple is the one list): a relation
    ``owner`` is sent as ``owner_id``.
    """
    return [f"{name}_id" if model._meta.get_field(name).is_relation else name for name in writable_fields]


_renderers = threading.local()


def render(serializer_class: type[serializers.Serializer], instance) -> dict:
    """
    ``serializer_class(instance).data``, with one serializer kept per class and thread: building
    a serializer's fields costs more than rendering a record with them, and webhook events render
    one record per change. For serializers that need no request in their context.
    """
    kept = _renderers.__dict__.setdefault("serializers", {})
    serializer = kept.get(serializer_class)
    if serializer is None:
        serializer = kept[serializer_class] = serializer_class()
    return serializer.to_representation(instance)
