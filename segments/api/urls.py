from crm_project.core.api.routers import CRMRouter

from .views import SegmentViewSet

router = CRMRouter()
router.register("segments", SegmentViewSet, basename="segment")

urlpatterns = router.urls
