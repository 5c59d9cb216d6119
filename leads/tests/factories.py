"""Leads arranged directly, in any status, consistent with the model's constraints."""

from __future__ import annotations

import factory
from django.utils import timezone

from crm_project.core.matching import company_name_key, email_domain_key, phone_key
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
    phone = ""
    # The duplicate-matching keys, as the services keep them.
    match_company_name = factory.LazyAttribute(lambda record: company_name_key(record.company_name))
    match_email_domain = factory.LazyAttribute(lambda record: email_domain_key(record.email))
    match_phone = factory.LazyAttribute(lambda record: phone_key(record.phone))
    is_qualified = factory.LazyAttribute(lambda lead: lead.status == LeadStatus.QUALIFIED)
    qualification_score = factory.LazyAttribute(lambda lead: 80 if lead.is_qualified else None)
    qualified_at = factory.LazyAttribute(lambda lead: timezone.now() if lead.is_qualified else None)
    converted_customer = factory.Maybe("converted", yes_declaration=factory.SubFactory(CustomerFactory))
    converted_at = factory.LazyAttribute(lambda lead: timezone.now() if lead.converted else None)
