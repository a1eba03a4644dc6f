"""Pages of the ops area (under /t/<slug>/, namespace "leads")."""

from django.urls import path

from leads.views import ops as views

urlpatterns = [
    path("sources/", views.source_list, name="source-list"),
    path("sources/new/", views.source_create, name="source-create"),
    path("sources/<int:pk>/edit/", views.source_edit, name="source-edit"),
    path("sources/<int:pk>/delete/", views.source_delete, name="source-delete"),
    path("sources/<int:pk>/restore/", views.source_restore, name="source-restore"),
    path("campaigns/", views.campaign_list, name="campaign-list"),
    path("campaigns/new/", views.campaign_create, name="campaign-create"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign-detail"),
    path("campaigns/<int:pk>/edit/", views.campaign_edit, name="campaign-edit"),
    path("campaigns/<int:pk>/delete/", views.campaign_delete, name="campaign-delete"),
    path("campaigns/<int:pk>/restore/", views.campaign_restore, name="campaign-restore"),
    path("territories/", views.territory_list, name="territory-list"),
    path("territories/new/", views.territory_create, name="territory-create"),
    path("territories/test/", views.territory_test, name="territory-test"),
    path("territories/<int:pk>/edit/", views.territory_edit, name="territory-edit"),
    path("territories/<int:pk>/delete/", views.territory_delete, name="territory-delete"),
    path("territories/<int:pk>/move/", views.territory_move, name="territory-move"),
    path("scoring-rules/", views.scoring_rules, name="scoring-rules"),
    path("scoring-rules/preview/", views.scoring_preview, name="scoring-preview"),
    path("scoring-rules/<int:pk>/edit/", views.scoring_rule_edit, name="scoring-rule-edit"),
    path("scoring-rules/<int:pk>/delete/", views.scoring_rule_delete, name="scoring-rule-delete"),
]
