"""API routes of the ops area (under /api/v1/t/<slug>/, namespace "leads-api")."""

from rest_framework.routers import SimpleRouter

from leads.api import ops

router = SimpleRouter()
router.register("lead-sources", ops.LeadSourceViewSet, basename="lead-source")
router.register("campaigns", ops.CampaignViewSet, basename="campaign")
router.register("territories", ops.TerritoryViewSet, basename="territory")
router.register("scoring-rules", ops.ScoringRuleViewSet, basename="scoring-rule")

urlpatterns = router.urls
