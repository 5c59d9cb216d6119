"""
History entries in words, for people: the admin's history on each record page and the
timeline's summaries. ``changes`` holds values as the API shows them (ids, ISO 8601, codes);
here they become what a colleague reads: names, labels, dates, amounts.

Linked records (an assignee, a customer) are named with one query per linked model for all
the entries shown, however many there are.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.dateparse import parse_date, parse_datetime

from crm_project.core.models import HistoryAction, HistoryEntry
from crm_project.core.text import day, day_and_time, person_name

NOTHING = "nothing"
# Long texts (notes, descriptions) are cut to this in a change's words.
LONGEST_VALUE = 60


@dataclass(frozen=True)
class EntryInWords:
    at: dt.datetime
    who: str
    source: str
    what: str
    details: tuple[str, ...]

    @property
    def sentence(self) -> str:
        """The whole entry on one line: ``Stage changed by Meena: stage Prospecting → Proposal``."""
        head = f"{self.what} by {self.who}"
        return f"{head}: {'; '.join(self.details)}" if self.details else head


def in_words(model: type[models.Model], entries: Sequence[HistoryEntry]) -> list[EntryInWords]:
    """``entries`` of records of ``model``, each in words (details only for changes, not creations)."""
    fields = _fields_by_api_name(model)
    names = _linked_names(fields, entries)
    return [
        EntryInWords(
            at=entry.at,
            who=entry.actor_name or "system",
            source=entry.source,
            what=HistoryAction(entry.action).label,
            details=tuple(_details(entry, fields, names)),
        )
        for entry in entries
    ]


def _fields_by_api_name(model: type[models.Model]) -> dict[str, models.Field]:
    """Each field under the name ``changes`` uses: ``assigned_to_id`` for a link, ``customer_ids`` for many."""
    fields: dict[str, models.Field] = {}
    for field in model._meta.get_fields():
        if field.many_to_many and not field.auto_created:
            fields[f"{field.related_model._meta.model_name}_ids"] = field
        elif getattr(field, "concrete", False):
            fields[field.attname] = field
    return fields


def _details(entry: HistoryEntry, fields, names) -> Iterable[str]:
    if entry.action == HistoryAction.CREATED or entry.action == HistoryAction.DELETED:
        return
    for name, pair in entry.changes.items():
        old, new = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
        field = fields.get(name)
        label = _label(name, field)
        if isinstance(old, list) or isinstance(new, list):
            yield f"{label}: {_list_change(_as_list(old), _as_list(new), field, names)}"
        else:
            yield f"{label}: {_value(old, field, names)} → {_value(new, field, names)}"


def _label(name: str, field: models.Field | None) -> str:
    text = str(field.verbose_name) if field is not None else name.removesuffix("_id").replace("_", " ")
    return text[:1].upper() + text[1:]


def _as_list(value: Any) -> list:
    # One side of a list change may be a single value (or a structure) rather than a list.
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def _list_change(old: list, new: list, field, names) -> str:
    added = [value for value in new if value not in old]
    removed = [value for value in old if value not in new]
    parts = []
    for verb, values in (("added", added), ("removed", removed)):
        if values:
            shown = ", ".join(_value(value, field, names) for value in values[:5])
            more = f" and {len(values) - 5:,} more" if len(values) > 5 else ""
            parts.append(f"{len(values):,} {verb}: {shown}{more}")
    return "; ".join(parts) or "unchanged"


def _value(value: Any, field: models.Field | None, names: dict) -> str:
    if value is None or value == "":
        return NOTHING
    if field is None or isinstance(value, (dict, list)):
        # A structure (a JSON field's value, a merge's details) is shown as it is, shortened.
        return _cut(str(value))
    if field.is_relation:
        return names.get((field.related_model, str(value)), "a deleted record")
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.BooleanField):
        return "yes" if value else "no"
    if isinstance(field, models.DateTimeField):
        moment = _parsed(parse_datetime, value)
        return day_and_time(moment) if moment else _cut(str(value))
    if isinstance(field, models.DateField):
        date = _parsed(parse_date, value)
        return day(date) if date else _cut(str(value))
    if isinstance(field, models.DecimalField):
        return f"{value:,.2f}" if isinstance(value, (int, float)) else str(value)
    return _cut(str(value))


def _parsed(parse, value: Any):
    # Django's parsers raise on a well-formed impossible value ("2025-02-30"): shown as written.
    try:
        return parse(str(value))
    except ValueError:
        return None


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= LONGEST_VALUE else text[: LONGEST_VALUE - 1] + "…"


def _linked_names(fields: dict[str, models.Field], entries: Sequence[HistoryEntry]) -> dict:
    """``{(model, "id"): "name"}`` of every record the entries link to: one query per linked model."""
    wanted: dict[type[models.Model], set[str]] = defaultdict(set)
    for entry in entries:
        for name, pair in entry.changes.items():
            field = fields.get(name)
            if field is None or not field.is_relation:
                continue
            for value in pair if isinstance(pair, list) else [pair]:
                for one in value if isinstance(value, list) else [value]:
                    if isinstance(one, (str, int)) and one != "":
                        wanted[field.related_model].add(str(one))
    names = {}
    user_model = get_user_model()
    for related_model, ids in wanted.items():
        for pk, record in related_model._default_manager.in_bulk(_valid_ids(related_model, ids)).items():
            names[(related_model, str(pk))] = person_name(record) if related_model is user_model else str(record)
    return names


def _valid_ids(model: type[models.Model], ids: Iterable[str]) -> list:
    """The ids that can be ``model``'s (a value that cannot names no record: "a deleted record")."""
    valid = []
    for one in ids:
        try:
            valid.append(model._meta.pk.to_python(one))
        except ValidationError:
            continue
    return valid
