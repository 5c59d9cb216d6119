"""``manage.py export_customers``."""

import csv
import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from customers.exports import COLUMNS
from segments.tests.factories import SegmentFactory, SegmentMembershipFactory

from .factories import CustomerFactory

pytestmark = pytest.mark.django_db


def exported(*args) -> list[dict]:
    out = StringIO()
    call_command("export_customers", *args, stdout=out, stderr=StringIO())
    return list(csv.DictReader(StringIO(out.getvalue())))


def test_export_customers_writes_every_column(rep):
    CustomerFactory(customer_code="CUST-000001", company_name="Harbor Hotels", account_manager=rep, annual_spend=1500)
    (row,) = exported()
    assert list(row) == list(COLUMNS)
    assert (row["customer_code"], row["account_manager"], row["annual_spend"]) == ("CUST-000001", "rep", "1500.00")
    assert row["is_active"] == "true"


def test_export_customers_lists_dormant_accounts_as_the_api_does():
    CustomerFactory(company_name="Quiet", last_contacted_at=dt.datetime(2025, 1, 5, tzinfo=dt.UTC))
    CustomerFactory(company_name="Never called", last_contacted_at=None)
    CustomerFactory(company_name="Busy", last_contacted_at=dt.datetime(2025, 3, 5, tzinfo=dt.UTC))
    rows = exported("--not-contacted-since", "2025-03-01")
    assert {row["company_name"] for row in rows} == {"Quiet", "Never called"}


def test_export_customers_filters_by_segment_country_and_rating():
    segment = SegmentFactory()
    wanted = CustomerFactory(company_name="Wanted", country="India", credit_rating="excellent")
    SegmentMembershipFactory(segment=segment, customer=wanted)
    CustomerFactory(company_name="Elsewhere", country="UAE", credit_rating="excellent")
    rows = exported("--segment-id", str(segment.pk), "--country", "india", "--credit-rating", "excellent")
    assert [row["company_name"] for row in rows] == ["Wanted"]


def test_export_customers_streams_in_a_fixed_number_of_queries(django_assert_max_num_queries, rep):
    CustomerFactory.create_batch(25, account_manager=rep)
    with django_assert_max_num_queries(2):
        assert len(exported()) == 25


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--segment-id", "not-a-uuid"], "--segment-id: Enter a valid UUID."),
        (
            ["--credit-rating", "superb"],
            "--credit-rating: superb is not a valid choice; choose one of: excellent, good, fair, poor.",
        ),
        (["--account-manager", "ghost"], "--account-manager: no user with the username or id 'ghost'."),
    ],
)
def test_export_customers_refuses_bad_filters(args, message):
    with pytest.raises(CommandError) as failure:
        call_command("export_customers", *args, stdout=StringIO(), stderr=StringIO())
    assert str(failure.value) == message
