"""Opportunities and their stage history arranged directly, for tests."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.utils import timezone

from customers.tests.factories import CustomerFactory
from leads.tests.factories import LeadFactory  # noqa: F401 - re-exported for these tests
from opportunities.models import (
    CLOSING_PROBABILITY,
    STAGE_FORECAST_CATEGORY,
    Opportunity,
    OpportunityStage,
    OpportunityStageChange,
    compute_expected_revenue,
)


class OpportunityFactory(factory.django.DjangoModelFactory):
    """An open opportunity; ``expected_revenue`` is consistent with value and probability."""

    class Meta:
        model = Opportunity

    opportunity_number = factory.Sequence(lambda n: f"OPP-20000101-{n:04d}")
    name = factory.Sequence(lambda n: f"Deal {n}")
    # A plain company name: Faker's ("Jackson LLC", "Winters Inc") would match search tests.
    customer = factory.SubFactory(CustomerFactory, company_name=factory.Sequence(lambda n: f"Customer {n}"))
    estimated_value = Decimal("10000.00")
    probability = 10
    stage = OpportunityStage.PROSPECTING
    expected_revenue = factory.LazyAttribute(lambda o: compute_expected_revenue(o.estimated_value, o.probability))
    forecast_category = factory.LazyAttribute(lambda o: STAGE_FORECAST_CATEGORY[o.stage])

    class Params:
        won = factory.Trait(
            stage=OpportunityStage.CLOSED_WON,
            probability=CLOSING_PROBABILITY[OpportunityStage.CLOSED_WON],
            actual_close_date=factory.LazyFunction(timezone.now),
        )
        lost = factory.Trait(
            stage=OpportunityStage.CLOSED_LOST,
            probability=CLOSING_PROBABILITY[OpportunityStage.CLOSED_LOST],
            actual_close_date=factory.LazyFunction(timezone.now),
            loss_reason="Price",
        )


class OpportunityStageChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OpportunityStageChange

    opportunity = factory.SubFactory(OpportunityFactory)
    from_stage = ""
    to_stage = OpportunityStage.PROSPECTING
    changed_at = factory.LazyFunction(timezone.now)
    estimated_value = Decimal("10000.00")
    probability = 10
