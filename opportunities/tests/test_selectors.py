"""Who sees which opportunities, and the pipeline statistics computed by hand."""

from decimal import Decimal

import pytest

from opportunities.models import OpportunityStage
from opportunities.selectors import (
    opportunity_list_visible_to,
    opportunity_pipeline_stats,
    opportunity_stage_history,
)

from .factories import OpportunityFactory, OpportunityStageChangeFactory

pytestmark = pytest.mark.django_db


def test_managers_and_superusers_see_every_opportunity(manager, superuser, rep):
    opportunities = {
        OpportunityFactory(owner=rep).pk,
        OpportunityFactory(owner=None).pk,
        OpportunityFactory(owner=manager).pk,
    }
    assert set(opportunity_list_visible_to(manager).values_list("pk", flat=True)) == opportunities
    assert set(opportunity_list_visible_to(superuser).values_list("pk", flat=True)) == opportunities


def test_a_rep_sees_only_the_opportunities_they_own(rep, other_rep):
    mine = OpportunityFactory(owner=rep)
    OpportunityFactory(owner=other_rep)
    OpportunityFactory(owner=None)
    assert list(opportunity_list_visible_to(rep)) == [mine]


def test_a_user_without_a_role_sees_none(no_role_user):
    OpportunityFactory(owner=no_role_user)
    assert not opportunity_list_visible_to(no_role_user).exists()


def test_stage_history_is_oldest_first():
    opportunity = OpportunityFactory()
    later = OpportunityStageChangeFactory(opportunity=opportunity, from_stage="prospecting", to_stage="proposal")
    earlier = OpportunityStageChangeFactory(
        opportunity=opportunity, changed_at=later.changed_at.replace(year=2020), to_stage="prospecting"
    )
    OpportunityStageChangeFactory()  # another opportunity's
    assert list(opportunity_stage_history(opportunity)) == [earlier, later]


# --- pipeline statistics ------------------------------------------------------------------


def zero_stage():
    return {"count": 0, "total_value": Decimal("0"), "weighted_value": Decimal("0")}


def test_stats_of_nothing_are_zeros_with_every_stage(manager):
    stats = opportunity_pipeline_stats(manager)
    assert stats == {
        "total_opportunities": 0,
        "open_opportunities": 0,
        "total_pipeline_value": Decimal("0"),
        "weighted_pipeline_value": Decimal("0"),
        "won_value": Decimal("0"),
        "win_rate": Decimal("0"),
        "by_stage": {stage: zero_stage() for stage in OpportunityStage.values},
    }


@pytest.fixture
def known_pipeline(rep, other_rep):
    """
    rep:       prospecting 1000 @10 (100.00), proposal 2000 @60 (1200.00),
               won 5000, won 3000, lost 4000
    other_rep: negotiation 10000 @80 (8000.00), lost 7000
    """
    OpportunityFactory(owner=rep, stage="prospecting", estimated_value=Decimal("1000"), probability=10)
    OpportunityFactory(owner=rep, stage="proposal", estimated_value=Decimal("2000"), probability=60)
    OpportunityFactory(owner=rep, won=True, estimated_value=Decimal("5000"))
    OpportunityFactory(owner=rep, won=True, estimated_value=Decimal("3000"))
    OpportunityFactory(owner=rep, lost=True, estimated_value=Decimal("4000"))
    OpportunityFactory(owner=other_rep, stage="negotiation", estimated_value=Decimal("10000"), probability=80)
    OpportunityFactory(owner=other_rep, lost=True, estimated_value=Decimal("7000"))


def test_stats_arithmetic_on_a_known_pipeline(manager, known_pipeline):
    stats = opportunity_pipeline_stats(manager)
    assert stats["total_opportunities"] == 7
    assert stats["open_opportunities"] == 3
    assert stats["total_pipeline_value"] == Decimal("13000.00")  # 1000 + 2000 + 10000
    assert stats["weighted_pipeline_value"] == Decimal("9300.00")  # 100 + 1200 + 8000
    assert stats["won_value"] == Decimal("8000.00")  # 5000 + 3000
    assert stats["win_rate"] == Decimal("50.00")  # 2 won ÷ (2 won + 2 lost)
    assert stats["by_stage"]["closed_won"] == {
        "count": 2,
        "total_value": Decimal("8000.00"),
        "weighted_value": Decimal("8000.00"),
    }
    assert stats["by_stage"]["closed_lost"] == {
        "count": 2,
        "total_value": Decimal("11000.00"),
        "weighted_value": Decimal("0.00"),
    }
    assert stats["by_stage"]["negotiation"] == {
        "count": 1,
        "total_value": Decimal("10000.00"),
        "weighted_value": Decimal("8000.00"),
    }
    assert stats["by_stage"]["qualification"] == zero_stage()


def test_a_reps_stats_count_only_their_own(rep, known_pipeline):
    stats = opportunity_pipeline_stats(rep)
    assert (stats["total_opportunities"], stats["open_opportunities"]) == (5, 2)
    assert stats["total_pipeline_value"] == Decimal("3000.00")
    assert stats["weighted_pipeline_value"] == Decimal("1300.00")
    assert stats["won_value"] == Decimal("8000.00")
    assert stats["win_rate"] == Decimal("66.67")  # 2 ÷ 3, rounded to 2 places
    assert stats["by_stage"]["negotiation"] == zero_stage()


def test_owner_id_narrows_to_one_owner(manager, other_rep, known_pipeline):
    stats = opportunity_pipeline_stats(manager, owner_id=other_rep.pk)
    assert (stats["total_opportunities"], stats["total_pipeline_value"], stats["win_rate"]) == (
        2,
        Decimal("10000.00"),
        Decimal("0.00"),
    )


def test_a_rep_asking_for_another_owner_sees_nothing(rep, other_rep, known_pipeline):
    assert opportunity_pipeline_stats(rep, owner_id=other_rep.pk)["total_opportunities"] == 0


def test_only_open_opportunities_give_a_zero_win_rate(manager):
    OpportunityFactory(stage="qualification", estimated_value=Decimal("400"), probability=25)
    OpportunityFactory(stage="needs_analysis", estimated_value=Decimal("600"), probability=50)
    stats = opportunity_pipeline_stats(manager)
    assert (stats["total_opportunities"], stats["open_opportunities"]) == (2, 2)
    assert (stats["total_pipeline_value"], stats["weighted_pipeline_value"]) == (Decimal("1000.00"), Decimal("400.00"))
    assert (stats["won_value"], stats["win_rate"]) == (Decimal("0"), Decimal("0"))


def test_only_won_gives_a_win_rate_of_100(manager):
    OpportunityFactory(won=True, estimated_value=Decimal("10"))
    assert opportunity_pipeline_stats(manager)["win_rate"] == Decimal("100.00")


def test_stats_take_at_most_two_queries_whatever_the_data(manager, known_pipeline, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        opportunity_pipeline_stats(manager)
    OpportunityFactory.create_batch(30, stage="proposal")
    with django_assert_max_num_queries(2):
        assert opportunity_pipeline_stats(manager)["by_stage"]["proposal"]["count"] == 31
