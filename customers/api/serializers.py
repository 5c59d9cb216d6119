"""Customer shapes: one output serializer, one input serializer for create and update."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm_project.core.api.duplicates import DuplicateCandidateSerializer
from crm_project.core.api.fields import ActiveUserField, MoneyField
from crm_project.core.api.serializers import StrictModelSerializer, api_field_names, render
from crm_project.core.roles import system_actor
from customers.models import CreditRating, Customer, OrderFrequency
from customers.selectors import customer_list_visible_to
from customers.services import EDITABLE_FIELDS


class CustomerSerializer(serializers.ModelSerializer):
    # Optional fields are "" when unset: documented so (the default would promise a URL,
    # an email address or one of the choices).
    website = serializers.CharField(read_only=True)
    email = serializers.CharField(read_only=True)
    credit_rating = serializers.ChoiceField(choices=CreditRating.choices, allow_blank=True, read_only=True)
    order_frequency = serializers.ChoiceField(choices=OrderFrequency.choices, allow_blank=True, read_only=True)
    account_manager_id = serializers.IntegerField(read_only=True, allow_null=True)
    annual_spend = MoneyField(read_only=True)
    segment_ids = serializers.SerializerMethodField()

    class Meta:
        model = Customer
        fields = [
            "id",
            "customer_code",
            *api_field_names(Customer, EDITABLE_FIELDS),
            "segment_ids",
            "last_contacted_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_segment_ids(self, customer) -> list:
        memberships = getattr(customer, "prefetched_memberships", None)
        if memberships is None:
            memberships = customer.segment_memberships.all()
        # In the order the customer joined them (an unordered prefetch has no order of its own).
        return [membership.segment_id for membership in sorted(memberships, key=lambda membership: membership.pk)]


class CustomerInputSerializer(StrictModelSerializer):
    account_manager_id = ActiveUserField(source="account_manager", required=False, allow_null=True)
    annual_spend = MoneyField(required=False)

    class Meta:
        model = Customer
        fields = api_field_names(Customer, EDITABLE_FIELDS)


class CustomerDuplicateSerializer(DuplicateCandidateSerializer):
    customer_code = serializers.CharField(read_only=True)


def webhook_data(customer) -> dict:
    """The customer as the API renders it to a manager: what its webhook events carry."""
    return render(CustomerSerializer, customer_list_visible_to(system_actor()).get(pk=customer.pk))
