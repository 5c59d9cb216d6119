import datetime as dt

import pytest
from django.utils import timezone

from crm_project.core.dates import start_of
from crm_project.reporting.demo import DemoContext
from crm_project.reporting.demo import customers as customers_demo
from crm_project.reporting.demo import leads as leads_demo
from leads.models import OPEN_STATUSES, Lead, LeadSource, LeadStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def ctx(manager, rep, other_rep, superuser):
    context = DemoContext(manager=manager, reps=[rep, other_rep], admin=superuser, size=1)
    customers_demo.seed(context)
    return context


def test_demo_leads_cover_every_status_source_and_assignee_and_a_second_run_adds_nothing(ctx, rep, other_rep):
    summary = leads_demo.seed(ctx)
    count = Lead.objects.count()

    assert summary == f"{count} demo leads ({count} new)"
    assert set(Lead.objects.values_list("status", flat=True)) == set(LeadStatus.values)
    assert set(Lead.objects.values_list("source", flat=True)) == set(LeadSource.values)
    assert {rep.pk, other_rep.pk, ctx.manager.pk, None} <= set(Lead.objects.values_list("assigned_to", flat=True))
    converted = Lead.objects.filter(status=LeadStatus.CONVERTED)
    assert converted.exists() and not converted.filter(converted_customer__isnull=True).exists()

    assert leads_demo.seed(ctx) == f"{count} demo leads (0 new)"
    assert Lead.objects.count() == count


def test_demo_has_follow_ups_due_today_and_overdue(ctx):
    leads_demo.seed(ctx)
    midnight = start_of(timezone.localdate())
    open_leads = Lead.objects.filter(status__in=OPEN_STATUSES)
    assert open_leads.filter(
        next_follow_up_date__gte=midnight, next_follow_up_date__lt=midnight + dt.timedelta(1)
    ).exists()
    assert open_leads.filter(next_follow_up_date__lt=midnight).exists()
