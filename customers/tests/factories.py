from __future__ import annotations

import factory

from crm_project.core.matching import company_name_key, email_domain_key, phone_key
from customers.models import CreditRating, Customer, OrderFrequency


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    customer_code = factory.Sequence(lambda n: f"CUST-T{n:05d}")
    company_name = factory.Faker("company")
    industry = "Retail"
    contact_person = factory.Faker("name")
    email = factory.Sequence(lambda n: f"buyer{n}@customer.example")
    city = "Mumbai"
    country = "India"
    credit_rating = CreditRating.GOOD
    order_frequency = OrderFrequency.MONTHLY
    annual_spend = 100000
    phone = ""
    # The duplicate-matching keys, as the services keep them.
    match_company_name = factory.LazyAttribute(lambda record: company_name_key(record.company_name))
    match_email_domain = factory.LazyAttribute(lambda record: email_domain_key(record.email))
    match_phone = factory.LazyAttribute(lambda record: phone_key(record.phone))
