"""Page URLs of the lifecycle app (included under /t/<slug>/). The public survey page lives outside the tenant
prefix, in survey_urls.py."""

from django.urls import path

from lifecycle.views import feedback, health, overview, playbooks, renewals, settings, subscriptions, survey

app_name = "lifecycle"
urlpatterns = [
    # health, at risk, feedback, playbooks, survey links
    path("at-risk/", health.at_risk, name="at-risk"),
    path("health/settings/", health.health_settings, name="health-settings"),
    path("feedback/", feedback.feedback_list_view, name="feedback-list"),
    path("feedback/new/", feedback.feedback_create_view, name="feedback-create"),
    path("feedback/contacts/", feedback.feedback_contacts, name="feedback-contacts"),
    path("feedback/<int:pk>/delete/", feedback.feedback_delete_view, name="feedback-delete"),
    path("feedback/account/<int:pk>/", feedback.account_feedback, name="account-feedback"),
    path("playbooks/", playbooks.playbook_list, name="playbook-list"),
    path("playbooks/<int:pk>/", playbooks.playbook_edit, name="playbook-edit"),
    path("playbooks/<int:pk>/delete/", playbooks.playbook_delete, name="playbook-delete"),
    path("contacts/<int:pk>/survey-link/", survey.survey_link, name="survey-link"),
    # subscriptions, renewals, lifecycle settings
    path("subscriptions/", subscriptions.subscription_list_view, name="subscription-list"),
    path("subscriptions/new/", subscriptions.subscription_create, name="subscription-create"),
    path("subscriptions/<int:pk>/", subscriptions.subscription_detail, name="subscription-detail"),
    path("subscriptions/<int:pk>/edit/", subscriptions.subscription_edit, name="subscription-edit"),
    path("subscriptions/<int:pk>/delete/", subscriptions.subscription_delete, name="subscription-delete"),
    path("subscriptions/<int:pk>/restore/", subscriptions.subscription_restore, name="subscription-restore"),
    path(
        "subscriptions/<int:pk>/next-term/",
        subscriptions.subscription_next_term,
        name="subscription-next-term",
    ),
    path("renewals/", renewals.renewal_list, name="renewal-list"),
    path("renewals/export/", renewals.renewal_export, name="renewal-export"),
    path("renewals/assign/", renewals.renewal_assign, name="renewal-assign"),
    path("lifecycle/settings/", settings.lifecycle_settings, name="settings"),
    # the lifecycle page: stages now, monthly flows, the accounts behind each number
    path("lifecycle/", overview.lifecycle_overview, name="overview"),
    path("lifecycle/accounts/", overview.lifecycle_accounts, name="overview-accounts"),
]
