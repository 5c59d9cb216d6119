"""
``/api/v1/webhooks``: managers' subscriptions to the CRM's events, their delivery log,
redelivery and ping. The delivery itself: ``core/webhooks``.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from crm_project.core.models import WebhookDelivery, WebhookDeliveryStatus, WebhookSubscription
from crm_project.core.webhooks import services
from crm_project.core.webhooks.events import ALL_EVENTS, EVENT_TYPES
from crm_project.core.webhooks.selectors import delivery_log, webhook_list_visible_to

from .permissions import HasCRMRole, IsManager
from .serializers import StrictModelSerializer
from .viewsets import ParsesEveryBody

EVENT_CHOICES = [*EVENT_TYPES, ALL_EVENTS]


class WebhookSerializer(StrictModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_CHOICES),
        allow_empty=False,
        min_length=1,  # allow_empty does not reach the schema; min_length gives it minItems
        help_text='The events to send, or ["*"] for all of them.',
    )
    url = serializers.URLField(
        max_length=500, help_text="https only, and a public host: never a loopback, private or link-local address."
    )
    secret = serializers.CharField(
        write_only=True,
        required=False,
        min_length=16,
        max_length=200,
        help_text="The signature's key; generated when not given, and shown once, in the answer to the create.",
    )
    disabled_reason = serializers.CharField(
        read_only=True, help_text="Why the CRM switched the subscription off (410 Gone); empty otherwise."
    )

    class Meta:
        model = WebhookSubscription
        fields = ["id", "url", "events", "is_active", "description", "secret", "disabled_reason", "created_at"]
        read_only_fields = ["id", "disabled_reason", "created_at"]


class WebhookCreatedSerializer(WebhookSerializer):
    """The answer to a create: the subscription with its secret, this once."""

    secret = serializers.CharField(read_only=True, help_text="Keep it: it is never shown again.")


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.UUIDField(source="event.uid", read_only=True, help_text="The X-CRM-Delivery header.")
    event_type = serializers.CharField(source="event.type", read_only=True)
    status = serializers.ChoiceField(choices=WebhookDeliveryStatus.choices, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "last_status_code",
            "last_attempt_at",
            "next_attempt_at",
        ]
        read_only_fields = fields


class WebhookPingSerializer(serializers.Serializer):
    event_id = serializers.UUIDField(help_text="The ping's X-CRM-Delivery id, to find it in the delivery log.")


WEBHOOK_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The subscription's id.")


@extend_schema_view(
    list=extend_schema(summary="List webhook subscriptions (managers)"),
    create=extend_schema(summary="Subscribe a URL to events (managers)", responses={201: WebhookCreatedSerializer}),
    retrieve=extend_schema(summary="Read a webhook subscription", parameters=[WEBHOOK_ID]),
    update=extend_schema(summary="Change a webhook subscription (partial)", parameters=[WEBHOOK_ID]),
    partial_update=extend_schema(summary="Change a webhook subscription (partial)", parameters=[WEBHOOK_ID]),
    destroy=extend_schema(summary="Delete a webhook subscription", parameters=[WEBHOOK_ID]),
)
@extend_schema(tags=["webhooks"])
class WebhookViewSet(
    ParsesEveryBody,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = WebhookSerializer
    permission_classes = [IsAuthenticated, HasCRMRole, IsManager]
    filter_backends: list = []

    def get_queryset(self):
        return webhook_list_visible_to(self.request.user)

    def create(self, request):
        body = WebhookSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        subscription = services.webhook_create(actor=request.user, data=body.validated_data)
        return Response(WebhookCreatedSerializer(subscription).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial=True):
        subscription = self.get_object()
        body = WebhookSerializer(subscription, data=request.data, partial=True, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        subscription = services.webhook_update(actor=request.user, subscription=subscription, data=body.validated_data)
        return Response(WebhookSerializer(subscription).data)

    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk)

    def perform_destroy(self, instance):
        services.webhook_delete(actor=self.request.user, subscription=instance)

    @extend_schema(
        summary="The delivery log of a subscription (newest first)",
        parameters=[WEBHOOK_ID],
        responses=WebhookDeliverySerializer(many=True),
    )
    @action(detail=True, methods=["get"], url_path="deliveries")
    def deliveries(self, request, pk=None):
        page = self.paginate_queryset(delivery_log(self.get_object()))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    @extend_schema(
        summary="Send a delivery's event again (same X-CRM-Delivery id)",
        parameters=[
            WEBHOOK_ID,
            OpenApiParameter("delivery_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The delivery."),
        ],
        request=None,
        responses={202: WebhookDeliverySerializer},
    )
    @action(detail=True, methods=["post"], url_path=r"deliveries/(?P<delivery_id>[0-9a-fA-F-]{36})/redeliver")
    def redeliver(self, request, pk=None, delivery_id=None):
        subscription = self.get_object()
        delivery = get_object_or_404(subscription.deliveries.all(), pk=delivery_id)
        delivery = services.webhook_redeliver(actor=request.user, delivery=delivery)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Send a ping event to this subscription alone",
        parameters=[WEBHOOK_ID],
        request=None,
        responses={202: WebhookPingSerializer},
    )
    @action(detail=True, methods=["post"], url_path="ping")
    def ping(self, request, pk=None):
        event = services.webhook_ping(actor=request.user, subscription=self.get_object())
        return Response({"event_id": str(event.uid)}, status=status.HTTP_202_ACCEPTED)
