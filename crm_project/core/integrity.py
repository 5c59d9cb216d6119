"""
Integrity errors turned back into the domain's words, by constraint name.

Serializers and services give the friendly error first; the database constraint is the last
line of defence against races (two requests with the same email at once) and against paths
that skip validation. When a constraint fires, this module finds it among the models'
``Meta.constraints`` and answers with its ``violation_error_message`` on the field it guards,
instead of a 500.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from django.apps import apps
from django.db import IntegrityError, models
from django.db.models.expressions import F

_SQLITE_NAMED = re.compile(r"(?:index '(?P<index>[^']+)'|CHECK constraint failed: (?P<check>\w+))")
_SQLITE_UNIQUE_COLUMNS = re.compile(r"UNIQUE constraint failed: (?P<columns>[\w.]+(?:, [\w.]+)*)")
_PG_KEY_DETAIL = re.compile(r"Key \((?:lower\()?(?P<column>\w+)")


@dataclass(frozen=True)
class Violation:
    field: str
    message: str


def _referenced_fields(node) -> list[str]:
    """Model field names an expression or Q object refers to, in order of appearance."""
    found: list[str] = []
    if isinstance(node, models.Q):
        for child in node.children:
            if isinstance(child, tuple):
                found.append(child[0].split("__")[0])
            else:
                found.extend(_referenced_fields(child))
    elif isinstance(node, F):
        found.append(node.name.split("__")[0])
    elif isinstance(node, str):
        found.append(node)
    elif hasattr(node, "get_source_expressions"):
        for source in node.get_source_expressions():
            found.extend(_referenced_fields(source))
    return found


def _field_of(constraint) -> str:
    if isinstance(constraint, models.UniqueConstraint):
        names = list(constraint.fields) or [
            name for expr in constraint.expressions for name in _referenced_fields(expr)
        ]
    elif isinstance(constraint, models.CheckConstraint):
        names = _referenced_fields(constraint.condition)
    else:
        names = []
    return names[0] if len(set(names)) == 1 else "non_field_errors"


@lru_cache(maxsize=1)
def _constraints_by_name() -> dict[str, Violation]:
    known: dict[str, Violation] = {}
    for model in apps.get_models():
        for constraint in model._meta.constraints:
            known[constraint.name] = Violation(
                field=_field_of(constraint), message=str(constraint.get_violation_error_message())
            )
        # Plain ``unique=True`` fields: named by column for SQLite's messages.
        for field in model._meta.concrete_fields:
            if field.unique and not field.primary_key:
                known[f"{model._meta.db_table}.{field.column}"] = Violation(
                    field=field.name,
                    message=f"A {model._meta.verbose_name} with this {field.verbose_name} already exists.",
                )
    return known


def _constraint_name(exc: IntegrityError) -> str | None:
    diag = getattr(exc.__cause__, "diag", None)
    if diag is not None and getattr(diag, "constraint_name", None):
        return diag.constraint_name
    match = _SQLITE_NAMED.search(str(exc))
    if match:
        return match.group("index") or match.group("check")
    match = _SQLITE_UNIQUE_COLUMNS.search(str(exc))
    if match:
        return match.group("columns").split(", ")[0]
    return None


def violation_for(exc: IntegrityError) -> Violation | None:
    """The field and message of the constraint that ``exc`` reports, when it is one of ours."""
    name = _constraint_name(exc)
    known = _constraints_by_name()
    if name in known:
        return known[name]
    diag = getattr(exc.__cause__, "diag", None)
    if diag is not None and diag.table_name and diag.message_detail:
        # PostgreSQL names ``unique=True`` constraints itself; its detail names the column.
        match = _PG_KEY_DETAIL.search(diag.message_detail)
        if match:
            return known.get(f"{diag.table_name}.{match.group('column')}")
    return None
