from leads.api_urls_leads import urlpatterns as lead_urls
from leads.api_urls_ops import urlpatterns as ops_urls

app_name = "leads-api"
urlpatterns = lead_urls + ops_urls
