"""Pages of the leads app (under /t/<slug>/, namespace "leads")."""

from django.urls import path

from leads.views import campaigns, conversion, duplicates, leads, merges, pool, scoring, sources, territories

app_name = "leads"
urlpatterns = [
    path("leads/", leads.lead_list, name="lead-list"),
    path("leads/new/", leads.lead_create, name="lead-create"),
    path("leads/bulk/", leads.lead_bulk, name="lead-bulk"),
    path("leads/duplicates/", duplicates.lead_duplicates, name="lead-duplicates"),
    path("leads/<int:pk>/", leads.lead_detail, name="lead-detail"),
    path("leads/<int:pk>/edit/", leads.lead_edit, name="lead-edit"),
    path("leads/<int:pk>/summary/", leads.lead_summary, name="lead-summary"),
    path("leads/<int:pk>/status/", leads.lead_status, name="lead-status"),
    path("leads/<int:pk>/assign/", pool.lead_assign, name="lead-assign"),
    path("leads/<int:pk>/claim/", pool.lead_claim, name="lead-claim"),
    path("leads/<int:pk>/convert/", conversion.lead_convert, name="lead-convert"),
    path("leads/<int:pk>/delete/", leads.lead_delete, name="lead-delete"),
    path("leads/<int:pk>/restore/", leads.lead_restore, name="lead-restore"),
    path("leads/<int:pk>/merge/", merges.lead_merge, name="lead-merge"),
    path("leads/<int:pk>/merges/<int:record_id>/undo/", merges.lead_merge_undo, name="lead-merge-undo"),
    path("pool/", pool.pool, name="pool"),
    path("pool/settings/", pool.pool_settings, name="pool-settings"),
    path("sources/", sources.source_list, name="source-list"),
    path("sources/new/", sources.source_create, name="source-create"),
    path("sources/<int:pk>/edit/", sources.source_edit, name="source-edit"),
    path("sources/<int:pk>/delete/", sources.source_delete, name="source-delete"),
    path("sources/<int:pk>/restore/", sources.source_restore, name="source-restore"),
    path("campaigns/", campaigns.campaign_list, name="campaign-list"),
    path("campaigns/new/", campaigns.campaign_create, name="campaign-create"),
    path("campaigns/<int:pk>/", campaigns.campaign_detail, name="campaign-detail"),
    path("campaigns/<int:pk>/edit/", campaigns.campaign_edit, name="campaign-edit"),
    path("campaigns/<int:pk>/delete/", campaigns.campaign_delete, name="campaign-delete"),
    path("campaigns/<int:pk>/restore/", campaigns.campaign_restore, name="campaign-restore"),
    path("territories/", territories.territory_list, name="territory-list"),
    path("territories/new/", territories.territory_create, name="territory-create"),
    path("territories/test/", territories.territory_test, name="territory-test"),
    path("territories/<int:pk>/edit/", territories.territory_edit, name="territory-edit"),
    path("territories/<int:pk>/delete/", territories.territory_delete, name="territory-delete"),
    path("territories/<int:pk>/move/", territories.territory_move, name="territory-move"),
    path("scoring-rules/", scoring.scoring_rules, name="scoring-rules"),
    path("scoring-rules/preview/", scoring.scoring_preview, name="scoring-preview"),
    path("scoring-rules/<int:pk>/edit/", scoring.scoring_rule_edit, name="scoring-rule-edit"),
    path("scoring-rules/<int:pk>/delete/", scoring.scoring_rule_delete, name="scoring-rule-delete"),
]
