"""Pages of the imports app (under /t/<slug>/, namespace "imports")."""

from django.urls import path

from imports import views

app_name = "imports"
urlpatterns = [
    path("imports/", views.import_list, name="import-list"),
    path("imports/<int:pk>/", views.import_detail, name="import-detail"),
    path("imports/<int:pk>/preview/", views.import_preview, name="import-preview"),
    path("imports/<int:pk>/resume/", views.import_resume, name="import-resume"),
    path("imports/<int:pk>/errors.csv", views.import_errors, name="import-errors"),
    path("imports/templates/<slug:kind>.csv", views.import_template, name="import-template"),
    path("exports/<slug:kind>.csv", views.export, name="export"),
    path("exports/<slug:kind>.xlsx", views.export_xlsx, name="export-xlsx"),
]
