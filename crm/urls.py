"""Root URLs. Tenant pages live under /t/<slug>/, the tenant API under /api/v1/t/<slug>/."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from crm import api, search_views, token_views, value_list_api, value_list_views, views

crm_pages = (
    [
        path("", views.home, name="home"),
        path("signup/", views.signup, name="signup"),
        path("login/", views.CrmLoginView.as_view(), name="login"),
        path("logout/", views.CrmLogoutView.as_view(), name="logout"),
        path("language/", views.set_language, name="set-language"),
        path("switch/", views.switch_tenant, name="switch-tenant"),
        path("no-tenant/", views.no_tenant, name="no-tenant"),
        path("invite/<slug:slug>/<str:token>/", views.invitation_accept, name="invitation-accept"),
        path("t/<slug:slug>/", views.tenant_home, name="tenant-home"),
        path("t/<slug:slug>/members/", views.member_list, name="member-list"),
        path("t/<slug:slug>/members/<int:pk>/", views.member_edit, name="member-edit"),
        path("t/<slug:slug>/settings/", views.tenant_settings, name="tenant-settings"),
        path("t/<slug:slug>/value-lists/", value_list_views.value_lists_page, name="value-lists"),
        path("t/<slug:slug>/api-tokens/", token_views.api_tokens, name="api-tokens"),
        path(
            "t/<slug:slug>/api-tokens/<int:pk>/revoke/", token_views.api_token_revoke, name="api-token-revoke"
        ),
        path("t/<slug:slug>/search/", search_views.search_page, name="search"),
    ],
    "crm",
)

crm_api = (
    [
        path("members/", api.MemberViewSet.as_view({"get": "list", "post": "create"}), name="member-list"),
        path(
            "members/<int:pk>/",
            api.MemberViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
            name="member-detail",
        ),
        path("me/", api.MeView.as_view(), name="me"),
        path("tokens/", api.ApiTokenViewSet.as_view({"get": "list"}), name="token-list"),
        path("tokens/<int:pk>/", api.ApiTokenViewSet.as_view({"delete": "destroy"}), name="token-detail"),
        path("search/", search_views.SearchView.as_view(), name="search"),
        path("value-lists/", value_list_api.ValueListsView.as_view(), name="value-lists"),
        path("value-lists/<slug:list_key>/", value_list_api.ValueListView.as_view(), name="value-list"),
        path(
            "value-lists/<slug:list_key>/<str:value>/",
            value_list_api.ValueListItemView.as_view(),
            name="value-list-item",
        ),
    ],
    "crm-api",
)

tenant_api = [
    path("", include(crm_api)),
    path("", include("leads.api_urls")),
    path("", include("accounts.api_urls")),
    path("", include("imports.api_urls")),
    path("", include("sales_ops.api_urls")),
    path("", include("lifecycle.api_urls")),
]

handler404 = "crm.views.page_not_found"

urlpatterns = [
    path("", include(crm_pages)),
    path("t/<slug:slug>/", include("leads.urls")),
    path("t/<slug:slug>/", include("accounts.urls")),
    path("t/<slug:slug>/", include("imports.urls")),
    path("t/<slug:slug>/", include("lifecycle.urls")),
    path("t/<slug:slug>/", include("sales_ops.urls")),
    path("survey/", include("lifecycle.survey_urls")),
    path("healthz", views.healthz, name="healthz"),
    path("api/v1/auth/token/", api.TokenObtainView.as_view(), name="api-token"),
    path("api/v1/t/<slug:slug>/", include(tenant_api)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]

# A database that cannot be reached answers 503 with Retry-After, anything else the usual 500 (crm/errorpages.py).
handler500 = "crm.errorpages.server_error"
