from django.urls import path
from rest_framework.routers import SimpleRouter

from sales_ops.api import kpis as api
from sales_ops.api.quotas import QuotaViewSet

router = SimpleRouter()
router.register("quotas", QuotaViewSet, basename="quota")

app_name = "sales-ops-api"
urlpatterns = [
    path("kpis/", api.KpiSnapshotList.as_view(), name="kpi-list"),
    path("kpis/recompute/", api.KpiRecomputeStart.as_view(), name="kpi-recompute"),
    path("kpis/recompute/<int:pk>/", api.KpiRecomputeDetail.as_view(), name="kpi-recompute-detail"),
    *router.urls,
]
