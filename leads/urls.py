from leads.urls_leads import urlpatterns as lead_urls
from leads.urls_ops import urlpatterns as ops_urls

app_name = "leads"
urlpatterns = lead_urls + ops_urls
