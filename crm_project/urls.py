"""Top-level routes: the API, its documentation, the admin, and the health check."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from crm_project.core.api.auth_views import HealthView
from crm_project.core.errors import api_path_not_found

urlpatterns = [
    path("api/v1/", include("crm_project.api_router")),
    re_path(r"^api/schema/?$", SpectacularAPIView.as_view(), name="schema"),
    re_path(r"^docs/?$", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    re_path(r"^redoc/?$", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    re_path(r"^health/?$", HealthView.as_view(), name="health"),
    path("admin/", admin.site.urls),
]

if settings.CRM_BENCHMARK:
    # Benchmark-only floor endpoint (bench/README.md); never mounted in production.
    urlpatterns.append(path("bench/", include("crm_project.benchmark.urls")))

handler400 = "crm_project.core.errors.bad_request"
handler403 = "crm_project.core.errors.permission_denied"
handler404 = "crm_project.core.errors.page_not_found"
handler500 = "crm_project.core.errors.server_error"

# Last: any other path under /api/ is a JSON 404, whatever DEBUG says.
urlpatterns.append(re_path(r"^api/", api_path_not_found, name="api-not-found"))
