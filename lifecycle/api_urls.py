"""API routes of the lifecycle app (included under /api/v1/t/<slug>/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from lifecycle.api.feedback import FeedbackViewSet
from lifecycle.api.health import HealthSettingsView, HealthViewSet
from lifecycle.api.overview import LifecycleSummaryView
from lifecycle.api.playbooks import PlaybookTemplateViewSet
from lifecycle.api.renewals import RenewalViewSet
from lifecycle.api.settings import LifecycleSettingsView
from lifecycle.api.stages import LifecycleHistoryView
from lifecycle.api.subscriptions import SubscriptionViewSet

router = SimpleRouter()
router.register("subscriptions", SubscriptionViewSet, basename="subscription")
router.register("renewals", RenewalViewSet, basename="renewal")

app_name = "lifecycle-api"
urlpatterns = [
    # subscriptions, renewals, lifecycle settings and stage history
    *router.urls,
    path("lifecycle/settings/", LifecycleSettingsView.as_view(), name="lifecycle-settings"),
    path("lifecycle/summary/", LifecycleSummaryView.as_view(), name="lifecycle-summary"),
    path(
        "accounts/<int:pk>/lifecycle-history/",
        LifecycleHistoryView.as_view(),
        name="lifecycle-history",
    ),
    # health, feedback, playbooks
    path("health/", HealthViewSet.as_view({"get": "list"}), name="health-list"),
    path("health/settings/", HealthSettingsView.as_view(), name="health-settings"),
    path("health/<int:account>/", HealthViewSet.as_view({"get": "retrieve"}), name="health-detail"),
    path("feedback/", FeedbackViewSet.as_view({"get": "list", "post": "create"}), name="feedback-list"),
    path(
        "feedback/<int:pk>/",
        FeedbackViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
        name="feedback-detail",
    ),
    path(
        "playbooks/",
        PlaybookTemplateViewSet.as_view({"get": "list", "post": "create"}),
        name="playbook-list",
    ),
    path(
        "playbooks/<int:pk>/",
        PlaybookTemplateViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
        name="playbook-detail",
    ),
]
