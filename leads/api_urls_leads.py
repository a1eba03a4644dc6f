"""API routes of the leads area under /api/v1/t/<slug>/ (names in the `leads-api` namespace)."""

from rest_framework.routers import SimpleRouter

from leads.api.leads import LeadViewSet

router = SimpleRouter()
router.register("leads", LeadViewSet, basename="lead")

urlpatterns = router.urls
