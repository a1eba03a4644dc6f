"""Page URLs of customer success: health, at risk, feedback, playbooks, survey links (under /t/<slug>/)."""

from django.urls import path

from lifecycle import health_views as views

urlpatterns = [
    path("at-risk/", views.at_risk, name="at-risk"),
    path("health/settings/", views.health_settings, name="health-settings"),
    path("feedback/", views.feedback_list_view, name="feedback-list"),
    path("feedback/new/", views.feedback_create_view, name="feedback-create"),
    path("feedback/<int:pk>/delete/", views.feedback_delete_view, name="feedback-delete"),
    path("feedback/account/<int:pk>/", views.account_feedback, name="account-feedback"),
    path("playbooks/", views.playbook_list, name="playbook-list"),
    path("playbooks/<int:pk>/", views.playbook_edit, name="playbook-edit"),
    path("playbooks/<int:pk>/delete/", views.playbook_delete, name="playbook-delete"),
    path("contacts/<int:pk>/survey-link/", views.survey_link, name="survey-link"),
]
