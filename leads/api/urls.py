from crm_project.core.api.routers import CRMRouter

from .views import LeadViewSet

router = CRMRouter()
router.register("leads", LeadViewSet, basename="lead")

urlpatterns = router.urls
