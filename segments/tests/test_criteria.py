"""Criteria evaluation, key by key: what matches, what is refused, what is only reported."""

import pytest
from django.core.exceptions import ValidationError

from customers.models import Customer
from customers.tests.factories import CustomerFactory
from segments.criteria import MAX_VALUES_PER_KEY, criteria_filter

pytestmark = pytest.mark.django_db


def matching(criteria) -> set:
    return set(Customer.objects.filter(criteria_filter(criteria).condition).values_list("company_name", flat=True))


def errors(criteria) -> list[str]:
    with pytest.raises(ValidationError) as error:
        criteria_filter(criteria)
    return error.value.message_dict["criteria"]


@pytest.fixture
def spenders():
    for name, spend in [
        ("small", 99_999.99),
        ("edge-low", 100_000),
        ("mid", 250_000),
        ("edge-high", 500_000),
        ("big", 500_000.01),
    ]:
        CustomerFactory(company_name=name, annual_spend=spend)


def test_min_annual_spend_is_an_inclusive_lower_bound(spenders):
    assert matching({"min_annual_spend": 100000}) == {"edge-low", "mid", "edge-high", "big"}


def test_max_annual_spend_is_an_inclusive_upper_bound(spenders):
    assert matching({"max_annual_spend": 500000}) == {"small", "edge-low", "mid", "edge-high"}


def test_spend_bounds_combine_and_accept_numeric_strings(spenders):
    assert matching({"min_annual_spend": "100000.00", "max_annual_spend": " 250000 "}) == {"edge-low", "mid"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "min_annual_spend must be a number."),
        (True, "min_annual_spend must be a number."),
        ([1], "min_annual_spend must be a number."),
        ("NaN", "min_annual_spend must be a number."),
        ("Infinity", "min_annual_spend must be a number."),
        (-1, "min_annual_spend cannot be negative."),
        (1e15, "min_annual_spend cannot be more than 999999999999.99."),
    ],
)
def test_an_invalid_spend_bound_is_refused(value, message):
    assert errors({"min_annual_spend": value}) == [message]


def test_min_above_max_is_refused():
    assert errors({"min_annual_spend": 10, "max_annual_spend": 5}) == [
        "min_annual_spend cannot be more than max_annual_spend."
    ]


def test_order_frequency_takes_one_value_or_any_of_a_list_in_any_case():
    CustomerFactory(company_name="weekly", order_frequency="weekly")
    CustomerFactory(company_name="monthly", order_frequency="monthly")
    CustomerFactory(company_name="yearly", order_frequency="yearly")
    assert matching({"order_frequency": "Monthly"}) == {"monthly"}
    assert matching({"order_frequency": ["weekly", "MONTHLY"]}) == {"weekly", "monthly"}


def test_credit_rating_takes_one_value_or_any_of_a_list():
    CustomerFactory(company_name="excellent", credit_rating="excellent")
    CustomerFactory(company_name="poor", credit_rating="poor")
    CustomerFactory(company_name="unrated", credit_rating="")
    assert matching({"credit_rating": "excellent"}) == {"excellent"}
    assert matching({"credit_rating": ["excellent", "poor"]}) == {"excellent", "poor"}


@pytest.mark.parametrize(("key", "value"), [("order_frequency", "hourly"), ("credit_rating", ["good", "superb"])])
def test_an_unknown_choice_is_refused_naming_the_choices(key, value):
    [message] = errors({key: value})
    assert message.startswith(f"{key} must be among ")
    assert "not " in message


@pytest.mark.parametrize("key", ["industry", "country", "city"])
def test_text_keys_match_whole_values_case_insensitively(key):
    CustomerFactory(company_name="exact", **{key: "Tamil Nadu"})
    CustomerFactory(company_name="other case", **{key: "TAMIL NADU"})
    CustomerFactory(company_name="substring only", **{key: "Tamil Nadu North"})
    CustomerFactory(company_name="listed", **{key: "Kerala"})
    assert matching({key: "tamil nadu"}) == {"exact", "other case"}
    assert matching({key: ["Tamil Nadu", "kerala"]}) == {"exact", "other case", "listed"}


@pytest.mark.parametrize("value", ["", "   ", [], [""], ["Pune", 3], {"name": "Pune"}, 42])
def test_a_text_key_needs_a_string_or_a_non_empty_list_of_strings(value):
    assert errors({"city": value}) == ["city must be a string or a non-empty list of strings."]


def test_a_list_longer_than_the_limit_is_refused():
    assert errors({"city": [f"City {i}" for i in range(MAX_VALUES_PER_KEY + 1)]}) == [
        f"city may list at most {MAX_VALUES_PER_KEY} values."
    ]


def test_keys_combine_with_and():
    CustomerFactory(company_name="both", city="Pune", credit_rating="excellent")
    CustomerFactory(company_name="city only", city="Pune", credit_rating="poor")
    CustomerFactory(company_name="rating only", city="Delhi", credit_rating="excellent")
    assert matching({"city": "Pune", "credit_rating": "excellent"}) == {"both"}


def test_only_active_customers_match():
    CustomerFactory(company_name="active", city="Pune")
    CustomerFactory(company_name="deactivated", city="Pune", is_active=False)
    assert matching({"city": "Pune"}) == {"active"}


def test_a_null_value_sets_no_condition():
    CustomerFactory(company_name="anyone", city="Delhi")
    compiled = criteria_filter({"city": None, "min_annual_spend": None})
    assert compiled.recognized == []
    assert matching({"city": None}) == {"anyone"}


def test_unknown_keys_are_reported_sorted_and_set_no_condition():
    CustomerFactory(company_name="pune", city="Pune")
    compiled = criteria_filter({"zone": "west", "city": "Pune", "Min_Annual_Spend": 10**9})
    assert compiled.unrecognized == ["Min_Annual_Spend", "zone"]
    assert compiled.recognized == ["city"]
    assert matching({"zone": "west", "city": "Pune", "Min_Annual_Spend": 10**9}) == {"pune"}


def test_every_invalid_key_is_listed_at_once():
    assert errors({"min_annual_spend": "x", "city": 1}) == [
        "min_annual_spend must be a number.",
        "city must be a string or a non-empty list of strings.",
    ]


def test_criteria_must_be_an_object():
    assert errors(["min_annual_spend"]) == ["Must be a JSON object."]


def test_the_seeds_example_is_valid_and_evaluated():
    CustomerFactory(company_name="hvc", annual_spend=750000, order_frequency="monthly", credit_rating="excellent")
    CustomerFactory(company_name="not", annual_spend=750000, order_frequency="weekly", credit_rating="excellent")
    seed = {"min_annual_spend": 500000, "order_frequency": "monthly", "credit_rating": "excellent"}
    assert matching(seed) == {"hvc"}
    assert criteria_filter(seed).unrecognized == []
