"""Factories for communication tests (leads and opportunities come from their own apps' factories)."""

from __future__ import annotations

import factory
from django.utils import timezone

from communications.models import Communication, CommunicationDirection, CommunicationType
from customers.tests.factories import CustomerFactory
from leads.tests.factories import LeadFactory  # noqa: F401 - re-exported for these tests
from opportunities.tests.factories import OpportunityFactory  # noqa: F401 - re-exported for these tests


class CommunicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Communication

    customer = factory.SubFactory(CustomerFactory)
    type = CommunicationType.PHONE
    direction = CommunicationDirection.OUTBOUND
    subject = factory.Sequence(lambda n: f"Call {n}")
    communication_date = factory.LazyFunction(timezone.now)
