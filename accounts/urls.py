"""Page URLs of the accounts app (included under /t/<slug>/ by crm/urls.py, names in the `accounts` namespace)."""

from django.urls import path

from accounts.views import accounts as accounts_views
from accounts.views import activities as activities_views
from accounts.views import contacts as contacts_views
from accounts.views import merges as merges_views
from accounts.views import opportunities as opportunities_views
from accounts.views import opportunity_board as opportunity_board_views
from accounts.views import pipelines as pipelines_views
from accounts.views import rates as rates_views

app_name = "accounts"
urlpatterns = [
    # Accounts, contacts, merges, activities and tasks, exchange rates.
    path("accounts/", accounts_views.account_list, name="account-list"),
    path("accounts/new/", accounts_views.account_create, name="account-create"),
    path("accounts/duplicates/", accounts_views.account_duplicates, name="account-duplicates"),
    path("accounts/picker/", accounts_views.account_picker, name="account-picker"),
    path("accounts/<int:pk>/", accounts_views.account_detail, name="account-detail"),
    path("accounts/<int:pk>/edit/", accounts_views.account_edit, name="account-edit"),
    path("accounts/<int:pk>/delete/", accounts_views.account_delete, name="account-delete"),
    path("accounts/<int:pk>/restore/", accounts_views.account_restore, name="account-restore"),
    path("accounts/<int:pk>/merge/", merges_views.account_merge, name="account-merge"),
    path("accounts/<int:pk>/team/", accounts_views.account_member_add, name="account-member-add"),
    path(
        "accounts/<int:pk>/team/<int:user_id>/remove/",
        accounts_views.account_member_remove,
        name="account-member-remove",
    ),
    path("contacts/", contacts_views.contact_list, name="contact-list"),
    path("contacts/new/", contacts_views.contact_create, name="contact-create"),
    path("contacts/duplicates/", contacts_views.contact_duplicates, name="contact-duplicates"),
    path("contacts/<int:pk>/", contacts_views.contact_detail, name="contact-detail"),
    path("contacts/<int:pk>/edit/", contacts_views.contact_edit, name="contact-edit"),
    path("contacts/<int:pk>/delete/", contacts_views.contact_delete, name="contact-delete"),
    path("contacts/<int:pk>/restore/", contacts_views.contact_restore, name="contact-restore"),
    path("contacts/<int:pk>/merge/", merges_views.contact_merge, name="contact-merge"),
    path("merges/<int:pk>/undo/", merges_views.merge_undo, name="merge-undo"),
    path("activities/", activities_views.activity_list, name="activity-list"),
    path("activities/new/", activities_views.activity_create, name="activity-create"),
    path("timeline/more/", activities_views.timeline_more, name="timeline-more"),
    path("tasks/", activities_views.task_list, name="task-list"),
    path("tasks/<int:pk>/complete/", activities_views.task_complete, name="task-complete"),
    path("tasks/<int:pk>/snooze/", activities_views.task_snooze, name="task-snooze"),
    path("exchange-rates/", rates_views.rate_list, name="rate-list"),
    path("exchange-rates/<int:pk>/", rates_views.rate_edit, name="rate-edit"),
    path("exchange-rates/<int:pk>/delete/", rates_views.rate_delete, name="rate-delete"),
    # Deals, the deal board, pipelines and stages.
    path("deals/", opportunities_views.opportunity_list, name="opportunity-list"),
    path("deals/new/", opportunities_views.opportunity_create, name="opportunity-create"),
    path("deal-board/", opportunity_board_views.opportunity_board, name="opportunity-board"),
    path(
        "deal-board/column/",
        opportunity_board_views.opportunity_board_column,
        name="opportunity-board-column",
    ),
    path("deals/<int:pk>/", opportunities_views.opportunity_detail, name="opportunity-detail"),
    path("deals/<int:pk>/move/", opportunity_board_views.opportunity_move, name="opportunity-move"),
    path("deals/<int:pk>/won/", opportunity_board_views.opportunity_won, name="opportunity-won"),
    path("deals/<int:pk>/lost/", opportunity_board_views.opportunity_lost, name="opportunity-lost"),
    path("deals/<int:pk>/delete/", opportunities_views.opportunity_delete, name="opportunity-delete"),
    path("deals/<int:pk>/restore/", opportunities_views.opportunity_restore, name="opportunity-restore"),
    path(
        "deals/<int:pk>/contacts/",
        opportunities_views.opportunity_contact_add,
        name="opportunity-contact-add",
    ),
    path(
        "deals/<int:pk>/contacts/<int:link_pk>/remove/",
        opportunities_views.opportunity_contact_remove,
        name="opportunity-contact-remove",
    ),
    path(
        "deals/<int:pk>/contacts/<int:link_pk>/primary/",
        opportunities_views.opportunity_contact_primary,
        name="opportunity-contact-primary",
    ),
    path("pipelines/", pipelines_views.pipeline_list, name="pipeline-list"),
    path("pipelines/<int:pk>/", pipelines_views.pipeline_detail, name="pipeline-detail"),
    path("pipelines/<int:pk>/delete/", pipelines_views.pipeline_delete, name="pipeline-delete"),
    path("pipelines/<int:pk>/stages/", pipelines_views.stage_create, name="stage-create"),
    path("pipelines/<int:pk>/stages/reorder/", pipelines_views.stage_reorder, name="stage-reorder"),
    path("pipelines/<int:pk>/stages/<int:stage_pk>/", pipelines_views.stage_update, name="stage-update"),
    path("pipelines/<int:pk>/stages/<int:stage_pk>/move/", pipelines_views.stage_move, name="stage-move"),
    path(
        "pipelines/<int:pk>/stages/<int:stage_pk>/delete/", pipelines_views.stage_delete, name="stage-delete"
    ),
]
