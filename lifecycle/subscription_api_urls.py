"""API routes of subscriptions, renewals, lifecycle settings and stage history (under /api/v1/t/<slug>/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from lifecycle.subscription_api import (
    LifecycleHistoryView,
    LifecycleSettingsView,
    RenewalViewSet,
    SubscriptionViewSet,
)

router = SimpleRouter()
router.register("subscriptions", SubscriptionViewSet, basename="subscription")
router.register("renewals", RenewalViewSet, basename="renewal")

urlpatterns = [
    *router.urls,
    path("lifecycle/settings/", LifecycleSettingsView.as_view(), name="lifecycle-settings"),
    path(
        "accounts/<int:pk>/lifecycle-history/",
        LifecycleHistoryView.as_view(),
        name="lifecycle-history",
    ),
]
