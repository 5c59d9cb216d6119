"""``manage.py refresh_segments``: each active segment's criteria applied through the service."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from customers.tests.factories import CustomerFactory
from segments.models import Segment

from .factories import SegmentFactory, SegmentMembershipFactory, assert_count_is_true, members_of

pytestmark = pytest.mark.django_db


def run(*args) -> list[str]:
    out = StringIO()
    call_command("refresh_segments", *args, stdout=out)
    return out.getvalue().splitlines()


@pytest.fixture
def segments():
    """HVC (spend ≥ 500,000) with one of its two matches in it already; UAE (none match); KEY (no criteria)."""
    big, bigger = CustomerFactory(annual_spend=600_000), CustomerFactory(annual_spend=900_000)
    CustomerFactory(annual_spend=100)
    CustomerFactory(annual_spend=700_000, is_active=False)
    hvc = SegmentFactory(code="HVC", name="High value", priority=1, criteria={"min_annual_spend": 500_000})
    SegmentMembershipFactory(segment=hvc, customer=big)
    uae = SegmentFactory(code="UAE", name="Gulf", priority=2, criteria={"country": "UAE", "tier": "gold"})
    key = SegmentFactory(code="KEY", name="Key accounts", priority=3, criteria={})
    SegmentFactory(code="OLD", name="Retired", criteria={"min_annual_spend": 0}, is_active=False)
    return hvc, uae, key, {big, bigger}


def test_refresh_adds_the_matching_customers_and_reports_each_segment(segments):
    hvc, uae, key, rich = segments

    lines = run()

    assert [line.split()[:1] + line.split()[-3:] for line in lines[2:4]] == [
        ["HVC", "1", "1", "2"],
        ["UAE", "0", "0", "0"],
    ]
    assert lines[4] == "  UAE: criteria not evaluated: tier."
    assert lines[5] == (
        "  KEY: skipped. This segment has no criteria the CRM can evaluate, so every active customer would "
        "match; nothing was assigned."
    )
    assert lines[-1] == "Added 1 customer to 2 segments; 1 skipped."
    assert members_of(hvc) == {customer.pk for customer in rich}
    assert members_of(key) == set()
    assert members_of(Segment.objects.get(code="OLD")) == set()  # Inactive: left alone.
    assert_count_is_true(hvc, uae, key)


def test_dry_run_reports_the_same_numbers_and_changes_nothing(segments):
    hvc, *_ = segments
    hvc.refresh_from_db()

    lines = run("--dry-run")

    assert lines[0].split()[2:4] == ["Would", "add"]
    assert lines[2].split()[-3:] == ["1", "1", "2"]
    assert lines[-1] == "Dry run: Would add 1 customer to 2 segments; 1 skipped. Nothing was changed."
    assert len(members_of(hvc)) == 1
    assert Segment.objects.get(pk=hvc.pk).updated_at == hvc.updated_at
    assert_count_is_true(hvc)


def test_one_segment_by_code_in_any_case_even_inactive(segments):
    lines = run("--segment", "old")
    assert lines[2].split()[0] == "OLD"
    assert lines[-1] == "Added 3 customers to 1 segment; 0 skipped."


def test_an_unknown_segment_code_is_refused():
    with pytest.raises(CommandError, match=r"^--segment: no segment with the code 'NOPE'\.$"):
        run("--segment", "NOPE")


def test_without_active_segments_it_says_so():
    SegmentFactory(is_active=False)
    assert run() == ["No active segments."]
