from crm_project.core.api.routers import CRMRouter

router = CRMRouter()

urlpatterns = router.urls
