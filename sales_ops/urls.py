"""Dashboard pages of sales_ops (included under /t/<slug>/)."""

from django.urls import path

from sales_ops.views import drilldown, economics, forecast, funnel, pipeline, quotas, recompute, reps

app_name = "sales_ops"
urlpatterns = [
    path("dashboards/funnel/", funnel.funnel, name="dashboard-funnel"),
    path("dashboards/pipeline/", pipeline.pipeline, name="dashboard-pipeline"),
    path("dashboards/reps/", reps.reps, name="dashboard-reps"),
    path("dashboards/unit-economics/", economics.economics, name="dashboard-economics"),
    path("dashboards/forecast/", forecast.forecast, name="forecast"),
    path(
        "dashboards/forecast/deals/<int:pk>/category/", forecast.forecast_category, name="forecast-category"
    ),
    path("dashboards/drill/<slug:metric>/", drilldown.drilldown, name="drilldown"),
    path("dashboards/quotas/", quotas.quota_grid, name="quota-grid"),
    path("dashboards/recompute/", recompute.recompute_start, name="recompute-start"),
    path("dashboards/recompute/<int:pk>/", recompute.recompute_progress, name="recompute-progress"),
]
