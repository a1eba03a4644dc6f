"""Pages of the leads area (under /t/<slug>/, namespace "leads")."""

from django.urls import path

from leads.views import leads as views

urlpatterns = [
    path("leads/", views.lead_list, name="lead-list"),
    path("leads/new/", views.lead_create, name="lead-create"),
    path("leads/bulk/", views.lead_bulk, name="lead-bulk"),
    path("leads/duplicates/", views.lead_duplicates, name="lead-duplicates"),
    path("leads/<int:pk>/", views.lead_detail, name="lead-detail"),
    path("leads/<int:pk>/edit/", views.lead_edit, name="lead-edit"),
    path("leads/<int:pk>/status/", views.lead_status, name="lead-status"),
    path("leads/<int:pk>/assign/", views.lead_assign, name="lead-assign"),
    path("leads/<int:pk>/claim/", views.lead_claim, name="lead-claim"),
    path("leads/<int:pk>/convert/", views.lead_convert, name="lead-convert"),
    path("leads/<int:pk>/delete/", views.lead_delete, name="lead-delete"),
    path("leads/<int:pk>/restore/", views.lead_restore, name="lead-restore"),
    path("leads/<int:pk>/merge/", views.lead_merge, name="lead-merge"),
    path("leads/<int:pk>/merges/<int:record_id>/undo/", views.lead_merge_undo, name="lead-merge-undo"),
    path("pool/", views.pool, name="pool"),
    path("pool/settings/", views.pool_settings, name="pool-settings"),
]
