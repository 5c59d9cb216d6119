from crm_project.core.api.routers import CRMRouter

from .views import CommunicationViewSet

router = CRMRouter()
router.register("communications", CommunicationViewSet, basename="communication")

urlpatterns = router.urls
