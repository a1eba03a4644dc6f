"""API routes of customer success (included under /api/v1/t/<slug>/ by lifecycle's API urls)."""

from django.urls import path

from lifecycle import health_api as api

urlpatterns = [
    path("health/", api.HealthViewSet.as_view({"get": "list"}), name="health-list"),
    path("health/settings/", api.HealthSettingsView.as_view(), name="health-settings"),
    path("health/<int:account>/", api.HealthViewSet.as_view({"get": "retrieve"}), name="health-detail"),
    path(
        "feedback/",
        api.FeedbackViewSet.as_view({"get": "list", "post": "create"}),
        name="feedback-list",
    ),
    path(
        "feedback/<int:pk>/",
        api.FeedbackViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
        name="feedback-detail",
    ),
    path(
        "playbooks/",
        api.PlaybookTemplateViewSet.as_view({"get": "list", "post": "create"}),
        name="playbook-list",
    ),
    path(
        "playbooks/<int:pk>/",
        api.PlaybookTemplateViewSet.as_view(
            {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}
        ),
        name="playbook-detail",
    ),
]
