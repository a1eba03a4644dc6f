"""API routes of the records area under /api/v1/t/<slug>/ (names in the `accounts-api` namespace)."""

from rest_framework.routers import SimpleRouter

from accounts.api.records import (
    AccountViewSet,
    ActivityViewSet,
    ContactViewSet,
    ExchangeRateViewSet,
    MergeRecordViewSet,
)

router = SimpleRouter()
router.register("accounts", AccountViewSet, basename="account")
router.register("contacts", ContactViewSet, basename="contact")
router.register("activities", ActivityViewSet, basename="activity")
router.register("exchange-rates", ExchangeRateViewSet, basename="exchange-rate")
router.register("merges", MergeRecordViewSet, basename="merge")

urlpatterns = router.urls
