from django.urls import re_path

from crm_project.core.api.routers import CRMRouter

from .views import CustomerMergeView, LeadMergeView, MergeViewSet

router = CRMRouter()
router.register("merges", MergeViewSet, basename="merge")

UUID = r"(?P<pk>[0-9a-fA-F-]{36})"

urlpatterns = [
    re_path(rf"^customers/{UUID}/merge/?$", CustomerMergeView.as_view(), name="customer-merge"),
    re_path(rf"^leads/{UUID}/merge/?$", LeadMergeView.as_view(), name="lead-merge"),
    *router.urls,
]
