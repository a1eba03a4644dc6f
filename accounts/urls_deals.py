"""Pages of the deals area under /t/<slug>/ (names in the `accounts` namespace)."""

from django.urls import path

from accounts.views import deals as views

urlpatterns = [
    path("deals/", views.opportunity_list, name="opportunity-list"),
    path("deals/new/", views.opportunity_create, name="opportunity-create"),
    path("deal-board/", views.opportunity_board, name="opportunity-board"),
    path("deal-board/column/", views.opportunity_board_column, name="opportunity-board-column"),
    path("deals/<int:pk>/", views.opportunity_detail, name="opportunity-detail"),
    path("deals/<int:pk>/move/", views.opportunity_move, name="opportunity-move"),
    path("deals/<int:pk>/won/", views.opportunity_won, name="opportunity-won"),
    path("deals/<int:pk>/lost/", views.opportunity_lost, name="opportunity-lost"),
    path("deals/<int:pk>/delete/", views.opportunity_delete, name="opportunity-delete"),
    path("deals/<int:pk>/restore/", views.opportunity_restore, name="opportunity-restore"),
    path("deals/<int:pk>/contacts/", views.opportunity_contact_add, name="opportunity-contact-add"),
    path(
        "deals/<int:pk>/contacts/<int:link_pk>/remove/",
        views.opportunity_contact_remove,
        name="opportunity-contact-remove",
    ),
    path(
        "deals/<int:pk>/contacts/<int:link_pk>/primary/",
        views.opportunity_contact_primary,
        name="opportunity-contact-primary",
    ),
    path("pipelines/", views.pipeline_list, name="pipeline-list"),
    path("pipelines/<int:pk>/", views.pipeline_detail, name="pipeline-detail"),
    path("pipelines/<int:pk>/delete/", views.pipeline_delete, name="pipeline-delete"),
    path("pipelines/<int:pk>/stages/", views.stage_create, name="stage-create"),
    path("pipelines/<int:pk>/stages/reorder/", views.stage_reorder, name="stage-reorder"),
    path("pipelines/<int:pk>/stages/<int:stage_pk>/", views.stage_update, name="stage-update"),
    path("pipelines/<int:pk>/stages/<int:stage_pk>/move/", views.stage_move, name="stage-move"),
    path("pipelines/<int:pk>/stages/<int:stage_pk>/delete/", views.stage_delete, name="stage-delete"),
]
