"""
Factories for communication tests. Leads and opportunities are arranged here with the few
fields these tests need (their own apps' factories are written alongside, not relied on).
"""

from __future__ import annotations

import factory
from django.utils import timezone

from communications.models import Communication, CommunicationDirection, CommunicationType
from customers.tests.factories import CustomerFactory
from leads.models import Lead
from opportunities.models import Opportunity


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    lead_number = factory.Sequence(lambda n: f"LEAD-C{n:06d}")
    company_name = factory.Faker("company")
    contact_person = factory.Faker("name")
    email = factory.Sequence(lambda n: f"lead{n}@prospect.example")


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Opportunity

    opportunity_number = factory.Sequence(lambda n: f"OPP-C{n:06d}")
    name = factory.Sequence(lambda n: f"Deal {n}")
    customer = factory.SubFactory(CustomerFactory)
    estimated_value = 10000


class CommunicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Communication

    customer = factory.SubFactory(CustomerFactory)
    type = CommunicationType.PHONE
    direction = CommunicationDirection.OUTBOUND
    subject = factory.Sequence(lambda n: f"Call {n}")
    communication_date = factory.LazyFunction(timezone.now)
