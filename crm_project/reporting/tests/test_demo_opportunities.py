import pytest

from crm_project.reporting.demo import DemoContext
from crm_project.reporting.demo import customers as customers_demo
from crm_project.reporting.demo import leads as leads_demo
from crm_project.reporting.demo import opportunities as opportunities_demo
from opportunities.models import Opportunity, OpportunityStage, OpportunityStageChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def ctx(manager, rep, other_rep, superuser):
    return DemoContext(manager=manager, reps=[rep, other_rep], admin=superuser, size=1)


def test_demo_covers_every_stage_owner_and_outcome_and_tops_up_only_once(ctx, manager, rep, other_rep):
    customers_demo.seed(ctx)
    # Opportunities start from leads converted before them (the demo's leads have that history).
    leads_demo.seed(ctx)

    summary = opportunities_demo.seed(ctx)

    assert summary == "60 demo opportunities (60 new)"
    opportunities = Opportunity.objects.all()
    assert {o.stage for o in opportunities} == set(OpportunityStage.values)
    assert {o.owner for o in opportunities} == {manager, rep, other_rep}
    assert all(o.loss_reason for o in opportunities if o.stage == OpportunityStage.CLOSED_LOST)
    assert all(o.actual_close_date for o in opportunities if o.is_closed)
    assert any(o.lead_id for o in opportunities)
    # Created, moved and closed through the services: one history row per stage entered.
    assert OpportunityStageChange.objects.filter(from_stage="").count() == 60
    assert OpportunityStageChange.objects.filter(to_stage__in=["closed_won", "closed_lost"]).count() == sum(
        o.is_closed for o in opportunities
    )

    assert opportunities_demo.seed(ctx) == "60 demo opportunities (0 new)"
    assert Opportunity.objects.count() == 60


def test_demo_without_customers_creates_nothing(ctx):
    assert opportunities_demo.seed(ctx).startswith("0 demo opportunities")
    assert not Opportunity.objects.exists()
