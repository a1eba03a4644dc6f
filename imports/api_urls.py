from django.urls import path

from imports import api

app_name = "imports-api"
urlpatterns = [
    path("imports/", api.ImportJobViewSet.as_view({"get": "list", "post": "create"}), name="import-list"),
    path("imports/<int:pk>/", api.ImportJobViewSet.as_view({"get": "retrieve"}), name="import-detail"),
    path("imports/<int:pk>/resume/", api.ImportJobViewSet.as_view({"post": "resume"}), name="import-resume"),
    path("exports/<slug:kind>/", api.ExportView.as_view(), name="export"),
]
