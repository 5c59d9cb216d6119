"""
What a segment's ``criteria`` mean: the keys evaluated against customers, and how.

Known keys, combined with AND:

- ``min_annual_spend``, ``max_annual_spend``: a number (a JSON number or a numeric string),
  0 to 999,999,999,999.99; inclusive bounds on the customer's ``annual_spend``;
- ``order_frequency``, ``credit_rating``: one of the customer's choices, or a list of them
  (any of), compared case-insensitively;
- ``industry``, ``country``, ``city``: a string or a list of strings (any of), each compared
  with the whole value, case-insensitively.

A ``null`` value sets no condition. Only active customers match: a deactivated account is
not the target of a campaign. Any other key is kept in the segment as written and reported
as unrecognized; it is never guessed at (no condition is made of it).

``criteria_filter`` is the one place these rules live: the services call it to refuse
invalid criteria when a segment is saved (400 on ``criteria``), the selectors and
``segment_apply_criteria`` to find the matching customers in one query.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db.models import Q

from customers.models import CreditRating, OrderFrequency

MAX_SPEND = Decimal("999999999999.99")  # The largest annual_spend a customer can hold.
# A longer list would compile to an OR chain deeper than SQLite's expression limit, and is
# no segment anyone means.
MAX_VALUES_PER_KEY = 100


class CompiledCriteria(NamedTuple):
    """A segment's criteria as one condition on customers."""

    condition: Q
    recognized: list[str]
    unrecognized: list[str]


class _Invalid(Exception):
    pass


def _amount(key: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise _Invalid(f"{key} must be a number.")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise _Invalid(f"{key} must be a number.") from None
    if not amount.is_finite():
        raise _Invalid(f"{key} must be a number.")
    if amount < 0:
        raise _Invalid(f"{key} cannot be negative.")
    if amount > MAX_SPEND:
        raise _Invalid(f"{key} cannot be more than {MAX_SPEND}.")
    return amount


def _texts(key: str, value: Any) -> list[str]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values:
        raise _Invalid(f"{key} must be a string or a non-empty list of strings.")
    if len(values) > MAX_VALUES_PER_KEY:
        raise _Invalid(f"{key} may list at most {MAX_VALUES_PER_KEY} values.")
    if not all(isinstance(item, str) and item.strip() for item in values):
        raise _Invalid(f"{key} must be a string or a non-empty list of strings.")
    return [item.strip() for item in values]


def _any_text(field: str) -> Callable[[str, Any], Q]:
    def condition(key: str, value: Any) -> Q:
        q = Q()
        for text in _texts(key, value):
            q |= Q(**{f"{field}__iexact": text})
        return q

    return condition


def _any_choice(field: str, choices: list[str]) -> Callable[[str, Any], Q]:
    def condition(key: str, value: Any) -> Q:
        wanted = sorted({text.lower() for text in _texts(key, value)})
        unknown = [text for text in wanted if text not in choices]
        if unknown:
            raise _Invalid(f"{key} must be among {', '.join(choices)} (not {', '.join(unknown)}).")
        # The stored choice codes are lower case: a plain IN serves the comparison.
        return Q(**{f"{field}__in": wanted})

    return condition


KNOWN_KEYS: dict[str, Callable[[str, Any], Q]] = {
    "min_annual_spend": lambda key, value: Q(annual_spend__gte=_amount(key, value)),
    "max_annual_spend": lambda key, value: Q(annual_spend__lte=_amount(key, value)),
    "order_frequency": _any_choice("order_frequency", OrderFrequency.values),
    "credit_rating": _any_choice("credit_rating", CreditRating.values),
    "industry": _any_text("industry"),
    "country": _any_text("country"),
    "city": _any_text("city"),
}


def criteria_filter(criteria: Mapping[str, Any]) -> CompiledCriteria:
    """
    Compile ``criteria`` into one condition on ``Customer``; raise ``ValidationError`` on
    ``criteria`` (every problem listed) when a known key holds an invalid value.
    """
    if not isinstance(criteria, Mapping):
        raise ValidationError({"criteria": ["Must be a JSON object."]})
    condition = Q(is_active=True)
    recognized: list[str] = []
    errors: list[str] = []
    for key, compile_key in KNOWN_KEYS.items():
        if criteria.get(key) is None:
            continue
        try:
            condition &= compile_key(key, criteria[key])
        except _Invalid as exc:
            errors.append(str(exc))
        recognized.append(key)
    both_bounds = "min_annual_spend" in recognized and "max_annual_spend" in recognized
    if (
        both_bounds
        and not errors
        and _amount("", criteria["min_annual_spend"]) > _amount("", criteria["max_annual_spend"])
    ):
        errors.append("min_annual_spend cannot be more than max_annual_spend.")
    if errors:
        raise ValidationError({"criteria": errors})
    unrecognized = sorted(key for key in criteria if key not in KNOWN_KEYS)
    return CompiledCriteria(condition=condition, recognized=recognized, unrecognized=unrecognized)
