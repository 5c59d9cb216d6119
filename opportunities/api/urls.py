from crm_project.core.api.routers import CRMRouter

from .views import OpportunityViewSet

router = CRMRouter()
router.register("opportunities", OpportunityViewSet, basename="opportunity")

urlpatterns = router.urls
