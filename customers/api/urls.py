from crm_project.core.api.routers import CRMRouter

from .views import CustomerViewSet

router = CRMRouter()
router.register("customers", CustomerViewSet, basename="customer")

urlpatterns = router.urls
