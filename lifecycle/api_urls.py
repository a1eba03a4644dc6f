"""API routes of the lifecycle app (included under /api/v1/t/<slug>/); each area keeps its own list."""

from lifecycle.health_api_urls import urlpatterns as health_urls
from lifecycle.subscription_api_urls import urlpatterns as subscription_urls

app_name = "lifecycle-api"
urlpatterns = [*subscription_urls, *health_urls]
