from __future__ import annotations

import factory

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
