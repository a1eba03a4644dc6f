"""Page URLs of the records area (included under /t/<slug>/ by accounts/urls.py)."""

from django.urls import path

from accounts.views import records as views

urlpatterns = [
    path("accounts/", views.account_list, name="account-list"),
    path("accounts/new/", views.account_create, name="account-create"),
    path("accounts/duplicates/", views.account_duplicates, name="account-duplicates"),
    path("accounts/picker/", views.account_picker, name="account-picker"),
    path("accounts/<int:pk>/", views.account_detail, name="account-detail"),
    path("accounts/<int:pk>/edit/", views.account_edit, name="account-edit"),
    path("accounts/<int:pk>/delete/", views.account_delete, name="account-delete"),
    path("accounts/<int:pk>/restore/", views.account_restore, name="account-restore"),
    path("accounts/<int:pk>/merge/", views.account_merge, name="account-merge"),
    path("accounts/<int:pk>/team/", views.account_member_add, name="account-member-add"),
    path(
        "accounts/<int:pk>/team/<int:user_id>/remove/",
        views.account_member_remove,
        name="account-member-remove",
    ),
    path("contacts/", views.contact_list, name="contact-list"),
    path("contacts/new/", views.contact_create, name="contact-create"),
    path("contacts/duplicates/", views.contact_duplicates, name="contact-duplicates"),
    path("contacts/<int:pk>/", views.contact_detail, name="contact-detail"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact-edit"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact-delete"),
    path("contacts/<int:pk>/restore/", views.contact_restore, name="contact-restore"),
    path("contacts/<int:pk>/merge/", views.contact_merge, name="contact-merge"),
    path("merges/<int:pk>/undo/", views.merge_undo, name="merge-undo"),
    path("activities/new/", views.activity_create, name="activity-create"),
    path("timeline/more/", views.timeline_more, name="timeline-more"),
    path("tasks/", views.task_list, name="task-list"),
    path("tasks/<int:pk>/complete/", views.task_complete, name="task-complete"),
    path("tasks/<int:pk>/snooze/", views.task_snooze, name="task-snooze"),
    path("exchange-rates/", views.rate_list, name="rate-list"),
    path("exchange-rates/<int:pk>/", views.rate_edit, name="rate-edit"),
    path("exchange-rates/<int:pk>/delete/", views.rate_delete, name="rate-delete"),
]
