from django.urls import path

from sales_ops import api

app_name = "sales-ops-api"
urlpatterns = [
    path("kpis/", api.KpiSnapshotList.as_view(), name="kpi-list"),
    path("kpis/recompute/", api.KpiRecomputeStart.as_view(), name="kpi-recompute"),
    path("kpis/recompute/<int:pk>/", api.KpiRecomputeDetail.as_view(), name="kpi-recompute-detail"),
]
