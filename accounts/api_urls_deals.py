"""API routes of the deals area under /api/v1/t/<slug>/ (names in the `accounts-api` namespace)."""

from rest_framework.routers import SimpleRouter

from accounts.api.deals import OpportunityViewSet, PipelineViewSet, StageViewSet

router = SimpleRouter()
router.register("pipelines", PipelineViewSet, basename="pipeline")
router.register("stages", StageViewSet, basename="stage")
router.register("opportunities", OpportunityViewSet, basename="opportunity")

urlpatterns = router.urls
