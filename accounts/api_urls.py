from accounts.api_urls_deals import urlpatterns as deal_urls
from accounts.api_urls_records import urlpatterns as record_urls

app_name = "accounts-api"
urlpatterns = record_urls + deal_urls
