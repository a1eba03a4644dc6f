"""API routes of the accounts app under /api/v1/t/<slug>/ (names in the `accounts-api` namespace)."""

from rest_framework.routers import SimpleRouter

from accounts.api.accounts import AccountViewSet
from accounts.api.activities import ActivityViewSet
from accounts.api.contacts import ContactViewSet
from accounts.api.merges import MergeRecordViewSet
from accounts.api.opportunities import OpportunityViewSet
from accounts.api.pipelines import PipelineViewSet, StageViewSet
from accounts.api.rates import ExchangeRateViewSet

app_name = "accounts-api"

router = SimpleRouter()
router.register("accounts", AccountViewSet, basename="account")
router.register("contacts", ContactViewSet, basename="contact")
router.register("activities", ActivityViewSet, basename="activity")
router.register("exchange-rates", ExchangeRateViewSet, basename="exchange-rate")
router.register("merges", MergeRecordViewSet, basename="merge")
router.register("pipelines", PipelineViewSet, basename="pipeline")
router.register("stages", StageViewSet, basename="stage")
router.register("opportunities", OpportunityViewSet, basename="opportunity")

urlpatterns = router.urls
