import datetime as dt
from unittest import mock

import pytest
from django.db import transaction

from crm_project.core.models import DailySequence
from crm_project.core.numbering import next_daily_number, next_daily_numbers, next_running_number

from .concurrency import run_concurrently


@pytest.fixture
def fixed_today():
    with mock.patch("crm_project.core.numbering.timezone.localdate", return_value=dt.date(2025, 12, 15)):
        yield


@pytest.mark.django_db
def test_daily_numbers_start_at_0001_and_increase(fixed_today):
    with transaction.atomic():
        first = next_daily_number("LEAD")
        second = next_daily_number("LEAD")
    assert (first, second) == ("LEAD-20251215-0001", "LEAD-20251215-0002")


@pytest.mark.django_db
def test_each_prefix_and_day_has_its_own_sequence(fixed_today):
    with transaction.atomic():
        assert next_daily_number("LEAD") == "LEAD-20251215-0001"
        assert next_daily_number("OPP") == "OPP-20251215-0001"
    next_day = mock.patch("crm_project.core.numbering.timezone.localdate", return_value=dt.date(2025, 12, 16))
    with next_day, transaction.atomic():
        assert next_daily_number("LEAD") == "LEAD-20251216-0001"


@pytest.mark.django_db
def test_number_grows_to_five_digits_after_9999(fixed_today):
    DailySequence.objects.create(prefix="LEAD", period="20251215", last_value=9999)
    with transaction.atomic():
        assert next_daily_number("LEAD") == "LEAD-20251215-10000"


@pytest.mark.django_db
def test_running_numbers_do_not_reset_daily():
    with transaction.atomic():
        assert next_running_number("CUST") == "CUST-000001"
        assert next_running_number("CUST") == "CUST-000002"


@pytest.mark.django_db
def test_a_block_of_numbers_is_consecutive(fixed_today):
    with transaction.atomic():
        next_daily_number("LEAD")
        block = next_daily_numbers("LEAD", 3)
    assert block == ["LEAD-20251215-0002", "LEAD-20251215-0003", "LEAD-20251215-0004"]


@pytest.mark.django_db
def test_a_rolled_back_creation_gives_its_number_back(fixed_today):
    with pytest.raises(RuntimeError), transaction.atomic():
        next_daily_number("LEAD")
        raise RuntimeError("creation failed")
    with transaction.atomic():
        assert next_daily_number("LEAD") == "LEAD-20251215-0001"


@pytest.mark.django_db(transaction=True)
def test_numbers_outside_a_transaction_are_refused():
    with pytest.raises(RuntimeError, match=r"inside transaction\.atomic"):
        next_daily_number("LEAD")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_creators_get_fifty_distinct_contiguous_numbers():
    def create_one() -> str:
        with transaction.atomic():
            return next_daily_number("CONC")

    numbers, errors = run_concurrently(create_one, threads=50)

    assert errors == []
    assert len(numbers) == 50
    assert len(set(numbers)) == 50
    sequence = sorted(int(number.rsplit("-", 1)[1]) for number in numbers)
    assert sequence == list(range(1, 51))
