"""Leads arranged directly, in any status, consistent with the model's constraints."""

from __future__ import annotations

import factory
from django.utils import timezone

from customers.tests.factories import CustomerFactory
from leads.models import Lead, LeadPriority, LeadSource, LeadStatus


class LeadFactory(factory.django.DjangoModelFactory):
    """
    ``LeadFactory(status=...)`` gives a lead as the services would leave it: a qualified one
    is flagged with a score and ``qualified_at``, a converted one names its customer.
    """

    class Meta:
        model = Lead

    class Params:
        converted = factory.LazyAttribute(lambda lead: lead.status == LeadStatus.CONVERTED)

    lead_number = factory.Sequence(lambda n: f"LEAD-T-{n:05d}")
    company_name = factory.Sequence(lambda n: f"Prospect Company {n}")
    contact_person = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@prospect.example")
    source = LeadSource.WEBSITE
    priority = LeadPriority.MEDIUM
    status = LeadStatus.NEW
    is_qualified = factory.LazyAttribute(lambda lead: lead.status == LeadStatus.QUALIFIED)
    qualification_score = factory.LazyAttribute(lambda lead: 80 if lead.is_qualified else None)
    qualified_at = factory.LazyAttribute(lambda lead: timezone.now() if lead.is_qualified else None)
    converted_customer = factory.Maybe("converted", yes_declaration=factory.SubFactory(CustomerFactory))
    converted_at = factory.LazyAttribute(lambda lead: timezone.now() if lead.converted else None)
