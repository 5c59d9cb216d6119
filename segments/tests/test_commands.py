from io import StringIO

import pytest
from django.core.management import call_command

from segments.models import Segment

from .factories import SegmentFactory, SegmentMembershipFactory, assert_count_is_true

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("recount_segments", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def drifted():
    """HVC holds 3 customers, LOCAL 1, but every stored count says 999."""
    hvc, local = SegmentFactory(code="HVC"), SegmentFactory(code="LOCAL")
    SegmentMembershipFactory.create_batch(3, segment=hvc)
    SegmentMembershipFactory(segment=local)
    Segment.objects.update(customer_count=999)
    return hvc, local


def test_recount_segments_repairs_drift_and_reports_each_fix(drifted):
    output = run()
    assert "HVC: 999 → 3" in output
    assert "LOCAL: 999 → 1" in output
    assert "Fixed 2 segment counts." in output
    assert_count_is_true(*drifted)


def test_dry_run_reports_without_fixing(drifted):
    output = run("--dry-run")
    assert "HVC: 999 → 3" in output
    assert "would be fixed" in output
    assert {s.customer_count for s in Segment.objects.all()} == {999}


def test_recount_segments_on_true_counts_says_so_and_changes_nothing():
    segment = SegmentFactory()
    SegmentMembershipFactory(segment=segment)
    segment.refresh_from_db()
    assert "Every segment's customer count is true." in run()
    assert Segment.objects.get().updated_at == segment.updated_at
