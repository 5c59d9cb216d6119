"""Authentication endpoints (SimpleJWT underneath) and the current user / user directory."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from crm_project.core.jobs.services import broker_state
from crm_project.core.roles import ADMIN, NO_ROLE, ROLE_GROUPS, SALES_MANAGER, SALES_REP, role_of

from .auth_serializers import (
    LogoutSerializer,
    TokenObtainSerializer,
    TokenPairSerializer,
    TokenRefreshSerializer,
    TokenVerifySerializer,
)
from .authentication import remember_role, users_with_roles
from .components import ERROR_DETAIL
from .permissions import HasCRMRole
from .throttles import ClientAddressThrottle, SignInGuard


class BearerChallengeOnly(BaseAuthentication):
    """
    Token endpoints authenticate by their body, not by a header: a stale ``Authorization``
    header must not get in the way of signing in again. This class only supplies the
    ``WWW-Authenticate`` challenge that makes DRF answer bad credentials with 401.
    """

    def authenticate(self, request):
        return None

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


UNAUTHORIZED = OpenApiResponse(response=ERROR_DETAIL, description="Invalid credentials or token.")


class _TokenEndpoint(generics.GenericAPIView):
    authentication_classes = [BearerChallengeOnly]
    permission_classes = [AllowAny]
    throttle_classes: list = []

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data, status=self.success_status)

    success_status = status.HTTP_200_OK


@extend_schema(
    tags=["auth"],
    auth=[],
    summary="Sign in",
    description=(
        "Exchange a username and password for an access token and a refresh token. Too many "
        "requests from one address, or too many failed sign-ins for one username, answer 429; "
        "while a username is blocked, an address that has not failed for it may still sign in "
        "with the right password."
    ),
    responses={200: TokenPairSerializer, 401: UNAUTHORIZED},
)
class TokenObtainView(_TokenEndpoint):
    """Exchange a username and password for an access and a refresh token."""

    serializer_class = TokenObtainSerializer
    throttle_classes = [ClientAddressThrottle]

    def post(self, request, *args, **kwargs):
        username = request.data.get("username") if isinstance(request.data, dict) else None
        guard = SignInGuard(username=username, address=ClientAddressThrottle().get_ident(request))
        locked = guard.is_locked()
        if locked and guard.address_has_failed():
            raise Throttled(wait=guard.wait())
        try:
            return super().post(request, *args, **kwargs)
        except AuthenticationFailed:
            guard.record_failure()
            if locked:
                raise Throttled(wait=guard.wait()) from None
            raise


@extend_schema(
    tags=["auth"],
    auth=[],
    summary="Refresh the tokens",
    description="Exchange a refresh token for a new pair; the refresh token sent can never be used again.",
    responses={200: TokenPairSerializer, 401: UNAUTHORIZED},
)
class TokenRefreshView(_TokenEndpoint):
    """Exchange a refresh token for a new pair; the old refresh token is spent."""

    serializer_class = TokenRefreshSerializer
    throttle_classes = [ClientAddressThrottle]


@extend_schema(
    tags=["auth"],
    auth=[],
    summary="Check a token",
    description=(
        "Whether an access or refresh token is still good: well signed, not expired, not spent, "
        "and its user still active with the same password."
    ),
    responses={200: OpenApiResponse(description="The token is valid."), 401: UNAUTHORIZED},
)
class TokenVerifyView(_TokenEndpoint):
    """Check that a token is valid (signature, expiry, blacklist, its user)."""

    serializer_class = TokenVerifySerializer
    throttle_classes = [ClientAddressThrottle]


@extend_schema(
    tags=["auth"],
    auth=[],
    summary="Sign out",
    description=(
        "End the sign-in this refresh token belongs to: it, and every access token issued from "
        "it (also after refreshes), stop working at once. Other sign-ins of the user go on."
    ),
    responses={205: OpenApiResponse(description="Signed out; the sign-in has ended."), 401: UNAUTHORIZED},
)
class LogoutView(_TokenEndpoint):
    """End the sign-in of a refresh token (``tokens.revoke_sign_in``)."""

    serializer_class = LogoutSerializer
    throttle_classes = [ClientAddressThrottle]
    success_status = status.HTTP_205_RESET_CONTENT

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(status=self.success_status)


# --- who am I, who is there ---------------------------------------------------------------


ROLE_CHOICES = [ADMIN, SALES_MANAGER, SALES_REP, NO_ROLE]


@extend_schema_field(serializers.EmailField(allow_null=True, help_text="null when the user has no e-mail address."))
class OptionalEmailField(serializers.EmailField):
    """A user's e-mail address, or null when they have none (Django stores none as "")."""

    def to_representation(self, value):
        return value or None


class MeSerializer(serializers.ModelSerializer):
    email = OptionalEmailField(read_only=True)
    role = serializers.SerializerMethodField()

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "email", "first_name", "last_name", "role"]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=ROLE_CHOICES))
    def get_role(self, user) -> str:
        return role_of(user)


class UserSummarySerializer(serializers.ModelSerializer):
    email = OptionalEmailField(read_only=True)
    full_name = serializers.SerializerMethodField()
    role = serializers.SerializerMethodField()

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "full_name", "email", "role"]
        read_only_fields = fields

    def get_full_name(self, user) -> str:
        return user.get_full_name() or user.get_username()

    @extend_schema_field(serializers.ChoiceField(choices=ROLE_CHOICES))
    def get_role(self, user) -> str:
        remember_role(user)  # The list's queryset annotated the memberships.
        return role_of(user)


@extend_schema(tags=["auth"], summary="Who am I", description="The signed-in user and their CRM role.")
class MeView(generics.RetrieveAPIView):
    """The signed-in user and their CRM role."""

    serializer_class = MeSerializer
    permission_classes = [IsAuthenticated]

    def get_object(self):
        return self.request.user


@extend_schema(
    tags=["users"],
    summary="List active users",
    description="Active users, for picking an assignee, owner or representative; by username.",
    parameters=[
        OpenApiParameter("search", str, description="Part of a username, name or email."),
        OpenApiParameter("role", str, enum=list(ROLE_GROUPS), description="Only users with this role."),
    ],
)
class UserListView(generics.ListAPIView):
    """Active users, for picking an assignee, owner or representative."""

    serializer_class = UserSummarySerializer
    permission_classes = [IsAuthenticated, HasCRMRole]
    filter_backends: list = []

    def get_queryset(self):
        queryset = users_with_roles().filter(is_active=True).order_by("username", "id")
        search = self.request.query_params.get("search", "").strip()
        if search:
            queryset = queryset.filter(
                Q(username__icontains=search)
                | Q(first_name__icontains=search)
                | Q(last_name__icontains=search)
                | Q(email__icontains=search)
            )
        role = self.request.query_params.get("role")
        if role:  # ``?role=`` is no filter, like every other empty query parameter.
            if role not in ROLE_GROUPS:
                raise serializers.ValidationError({"role": [f"Choose one of: {', '.join(ROLE_GROUPS)}."]})
            queryset = queryset.filter(groups__name=role)
        return queryset


class HealthView(APIView):
    """
    Liveness for load balancers (no authentication): 200 while the database answers, 503 when
    it does not. The broker is reported but never fails the check: without it the API still
    writes, and background work waits in the database until it is back.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(exclude=True)
    def get(self, request):
        from django.db import connection

        broker = broker_state()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except Exception:  # noqa: BLE001 - any failure to reach the database is "down"
            return Response({"status": "unavailable", "database": "unreachable", "broker": broker}, status=503)
        return Response({"status": "ok", "database": "ok", "broker": broker})
