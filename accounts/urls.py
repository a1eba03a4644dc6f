from accounts.urls_deals import urlpatterns as deal_urls
from accounts.urls_records import urlpatterns as record_urls

app_name = "accounts"
urlpatterns = record_urls + deal_urls
