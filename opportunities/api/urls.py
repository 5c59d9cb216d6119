from crm_project.core.api.routers import CRMRouter

from .quotas import QuotaViewSet
from .views import OpportunityViewSet

router = CRMRouter()
router.register("opportunities", OpportunityViewSet, basename="opportunity")
router.register("quotas", QuotaViewSet, basename="quota")

urlpatterns = router.urls
