"""Page URLs of subscriptions, renewals and the lifecycle settings (under /t/<slug>/)."""

from django.urls import path

from lifecycle import renewal_views, settings_views, subscription_views

urlpatterns = [
    path("subscriptions/", subscription_views.subscription_list_view, name="subscription-list"),
    path("subscriptions/new/", subscription_views.subscription_create, name="subscription-create"),
    path("subscriptions/<int:pk>/", subscription_views.subscription_detail, name="subscription-detail"),
    path("subscriptions/<int:pk>/edit/", subscription_views.subscription_edit, name="subscription-edit"),
    path(
        "subscriptions/<int:pk>/delete/", subscription_views.subscription_delete, name="subscription-delete"
    ),
    path(
        "subscriptions/<int:pk>/restore/",
        subscription_views.subscription_restore,
        name="subscription-restore",
    ),
    path(
        "subscriptions/<int:pk>/next-term/",
        subscription_views.subscription_next_term,
        name="subscription-next-term",
    ),
    path("renewals/", renewal_views.renewal_list, name="renewal-list"),
    path("renewals/export/", renewal_views.renewal_export, name="renewal-export"),
    path("renewals/assign/", renewal_views.renewal_assign, name="renewal-assign"),
    path("lifecycle/settings/", settings_views.lifecycle_settings, name="settings"),
]
