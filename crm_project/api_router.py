"""Every API path under ``/api/v1/``: authentication, users, and one include per CRM domain."""

from django.urls import include, path, re_path

from crm_project.core.api.auth_views import (
    LogoutView,
    MeView,
    TokenObtainView,
    TokenRefreshView,
    TokenVerifyView,
    UserListView,
)
from crm_project.core.api.jobs import JobViewSet
from crm_project.core.api.routers import CRMRouter
from crm_project.core.api.webhooks import WebhookViewSet
from crm_project.reporting.api import CustomerTimelineView

# Paths work without a trailing slash and with one, both answered directly: a redirect would
# turn a client's POST into a GET.
auth_patterns = [
    re_path(r"^token/?$", TokenObtainView.as_view(), name="token-obtain"),
    re_path(r"^token/refresh/?$", TokenRefreshView.as_view(), name="token-refresh"),
    re_path(r"^token/verify/?$", TokenVerifyView.as_view(), name="token-verify"),
    re_path(r"^logout/?$", LogoutView.as_view(), name="logout"),
    re_path(r"^me/?$", MeView.as_view(), name="me"),
]

crm_patterns = [
    re_path(
        r"^customers/(?P<pk>[0-9a-fA-F-]{36})/timeline/?$", CustomerTimelineView.as_view(), name="customer-timeline"
    ),
    path("", include("crm_project.merging.api.urls")),
    path("", include("customers.api.urls")),
    path("", include("leads.api.urls")),
    path("", include("opportunities.api.urls")),
    path("", include("communications.api.urls")),
    path("", include("segments.api.urls")),
]

jobs_router = CRMRouter()
jobs_router.register("jobs", JobViewSet, basename="job")
jobs_router.register("webhooks", WebhookViewSet, basename="webhook")

urlpatterns = [
    path("auth/", include((auth_patterns, "auth"))),
    path("", include(jobs_router.urls)),
    re_path(r"^users/?$", UserListView.as_view(), name="user-list"),
    path("crm/", include(crm_patterns)),
]
