"""
Records go only to people who can see them: every field that hands a record to a user refuses
an active user without a CRM role (400 naming the field), on create and on update.
"""

from __future__ import annotations

import uuid

import pytest

from crm_project.core.tests.factories import UserFactory
from customers.tests.factories import CustomerFactory
from leads.tests.factories import LeadFactory
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db

CRM = "/api/v1/crm"


@pytest.fixture
def outsider(db):
    """Active and able to sign in, but with no sales role: they could never see the record."""
    return UserFactory(username="outsider")


def create_body(kind: str) -> dict:
    customer = CustomerFactory()
    return {
        "leads": {
            "company_name": "Lotus",
            "contact_person": "Meena",
            "email": f"meena-{uuid.uuid4().hex[:8]}@lotus.example",
        },
        "opportunities": {"name": "Uniforms", "customer_id": str(customer.pk), "estimated_value": 1000},
        "communications": {"customer_id": str(customer.pk), "type": "phone", "direction": "outbound", "subject": "Hi"},
        "customers": {"company_name": "Harbor Hotels"},
    }[kind]


FIELDS = [
    ("leads", "assigned_to_id"),
    ("opportunities", "owner_id"),
    ("communications", "our_representative_id"),
    ("customers", "account_manager_id"),
]


@pytest.mark.parametrize(("kind", "field"), FIELDS)
def test_a_record_cannot_be_created_for_a_user_without_a_crm_role(manager_client, outsider, kind, field):
    response = manager_client.post(f"{CRM}/{kind}", {**create_body(kind), field: outsider.pk}, format="json")
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize(
    ("kind", "field", "make"),
    [
        ("leads", "assigned_to_id", LeadFactory),
        ("opportunities", "owner_id", OpportunityFactory),
        ("customers", "account_manager_id", CustomerFactory),
    ],
)
def test_a_record_cannot_be_handed_to_a_user_without_a_crm_role(manager_client, outsider, kind, field, make):
    record = make()
    response = manager_client.patch(f"{CRM}/{kind}/{record.pk}", {field: outsider.pk}, format="json")
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize(("kind", "field"), FIELDS)
def test_a_sales_rep_or_a_superuser_can_be_given_a_record(manager_client, rep, superuser, kind, field):
    for user in (rep, superuser):
        response = manager_client.post(f"{CRM}/{kind}", {**create_body(kind), field: user.pk}, format="json")
        assert response.status_code == 201, response.json()
        assert response.json()[field] == user.pk
