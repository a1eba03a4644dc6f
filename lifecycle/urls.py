"""Page URLs of the lifecycle app (included under /t/<slug>/); each area keeps its own list."""

from lifecycle.health_urls import urlpatterns as health_urls
from lifecycle.subscription_urls import urlpatterns as subscription_urls

app_name = "lifecycle"
urlpatterns = [*health_urls, *subscription_urls]
