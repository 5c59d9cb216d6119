import datetime as dt

import pytest
from django.utils import timezone

from crm_project.reporting.demo import as_of
from leads.models import LeadStatus
from leads.services import lead_create, lead_qualify

pytestmark = pytest.mark.django_db


def test_services_run_as_of_a_past_moment_stamp_it_everywhere(manager):
    moment = timezone.now() - dt.timedelta(days=40, hours=3)

    with as_of(moment):
        lead = lead_create(
            actor=manager, data={"company_name": "Acme", "contact_person": "Ann", "email": "a@x.example"}
        )
    with as_of(moment + dt.timedelta(days=5)):
        lead = lead_qualify(actor=manager, lead=lead, qualification_score=80, notes="Budget confirmed")

    lead.refresh_from_db()
    # created_at comes from the field's default (default=timezone.now), the rest from the service.
    assert lead.created_at == moment
    assert lead.lead_number.startswith(f"LEAD-{timezone.localdate(moment):%Y%m%d}-")
    assert lead.status == LeadStatus.QUALIFIED
    assert lead.qualified_at == lead.updated_at == moment + dt.timedelta(days=5)
    assert f"[{timezone.localtime(moment + dt.timedelta(days=5)):%Y-%m-%d %H:%M}" in lead.notes


def test_the_clock_runs_again_after_as_of():
    with as_of(timezone.now() - dt.timedelta(days=3)):
        pass

    assert abs(timezone.now() - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)


def test_as_of_refuses_a_moment_in_the_future_or_without_a_time_zone():
    with pytest.raises(ValueError, match="in the past"), as_of(timezone.now() + dt.timedelta(hours=1)):
        pass
    with pytest.raises(ValueError, match="aware"), as_of(dt.datetime(2025, 1, 1)):
        pass


def test_real_datetimes_are_still_datetimes_to_django_inside_as_of(settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    with as_of(timezone.now() - dt.timedelta(days=1)):
        # template_localtime converts only what passes isinstance(value, datetime), asked
        # of the name as_of swaps.
        shown = timezone.template_localtime(dt.datetime.now(dt.UTC), use_tz=True)

    assert shown.utcoffset() == dt.timedelta(hours=5, minutes=30)
