from django.urls import path

from imports import api

app_name = "imports-api"
urlpatterns = [
    path("imports/", api.ImportJobViewSet.as_view({"get": "list", "post": "create"}), name="import-list"),
    path("imports/<int:pk>/", api.ImportJobViewSet.as_view({"get": "retrieve"}), name="import-detail"),
    path("exports/<slug:kind>/", api.ExportView.as_view(), name="export"),
]
