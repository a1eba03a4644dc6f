"""API routes of the leads app under /api/v1/t/<slug>/ (names in the `leads-api` namespace)."""

from rest_framework.routers import SimpleRouter

from leads.api.campaigns import CampaignViewSet
from leads.api.leads import LeadViewSet
from leads.api.scoring import ScoringRuleViewSet
from leads.api.sources import LeadSourceViewSet
from leads.api.territories import TerritoryViewSet

app_name = "leads-api"

router = SimpleRouter()
router.register("leads", LeadViewSet, basename="lead")
router.register("lead-sources", LeadSourceViewSet, basename="lead-source")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("territories", TerritoryViewSet, basename="territory")
router.register("scoring-rules", ScoringRuleViewSet, basename="scoring-rule")

urlpatterns = router.urls
