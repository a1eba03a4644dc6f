"""Global search: the results page (and its htmx dropdown partial) and GET /api/v1/t/<slug>/search/."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.decorators import tenant_member_required
from crm.search import global_search, parse_query
from crm.types import TenantHttpRequest, tenant_request


@tenant_member_required
def search_page(request: TenantHttpRequest, slug: str) -> HttpResponse:
    """The full results page (works without JavaScript); the top bar's box asks for the dropdown partial."""
    terms = parse_query(request.GET.get("q"))
    groups = global_search(tenant=request.tenant, membership=request.membership, terms=terms)
    context = {"terms": terms, "groups": groups, "found": any(group.hits for group in groups)}
    if request.htmx and request.GET.get("dropdown"):
        return render(request, "crm/partials/_search_dropdown.html", context)
    return render(request, "crm/search.html", context)


class SearchResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    subtitle = serializers.CharField()
    url = serializers.CharField(help_text="The record's page.")


class SearchGroupSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["lead", "account", "contact", "deal"])
    # DRF takes declared fields out of the class, so this does not replace Field.label at run time.
    label = serializers.CharField(help_text="The kind's name in the request's language.")  # type: ignore[assignment]
    results = SearchResultSerializer(many=True)
    more = serializers.BooleanField(help_text="More matches than shown: see_all_url lists them.")
    see_all_url = serializers.CharField(help_text="The kind's list page with the same search applied.")


class SearchResponseSerializer(serializers.Serializer):
    query = serializers.CharField(help_text="The query as searched (a phone number as its digits).")
    groups = SearchGroupSerializer(many=True)


SEARCH_EXAMPLE = OpenApiExample(
    "A phone number typed with spaces finds the lead and the contact that have it",
    value={
        "query": "13800001111",
        "groups": [
            {
                "kind": "lead",
                "label": "Leads",
                "results": [
                    {
                        "id": 4211,
                        "title": "张伟",
                        "subtitle": "深圳华为技术有限公司 · zhang.wei@example.cn · +86 138-0000-1111",
                        "url": "/t/acme/leads/4211/",
                    }
                ],
                "more": False,
                "see_all_url": "/t/acme/leads/?q=13800001111",
            },
            {
                "kind": "contact",
                "label": "Contacts",
                "results": [
                    {
                        "id": 93,
                        "title": "张伟",
                        "subtitle": "华为 · +86 138-0000-1111",
                        "url": "/t/acme/contacts/93/",
                    }
                ],
                "more": False,
                "see_all_url": "/t/acme/contacts/?q=13800001111",
            },
        ],
    },
    response_only=True,
)


class SearchView(APIView):
    @extend_schema(
        operation_id="search",
        summary="Search leads, accounts, contacts and deals",
        description=(
            "Matches names, company, email and phone (a query of digits and phone punctuation, such as "
            "`138 0000 1111`, is searched as its digits) within what the member may see, grouped by kind with "
            "up to 5 results each. A kind the member's role does not have is left out; a query shorter than "
            "two letters (one Chinese character is enough) returns no groups."
        ),
        parameters=[OpenApiParameter("q", str, description="What to search for (up to 100 characters).")],
        responses={200: SearchResponseSerializer},
        examples=[SEARCH_EXAMPLE],
    )
    def get(self, request: Request, slug: str) -> Response:
        req = tenant_request(request)
        terms = parse_query(request.query_params.get("q"))
        groups = global_search(tenant=req.tenant, membership=req.membership, terms=terms)
        return Response(
            {
                "query": terms.needle,
                "groups": [
                    {
                        "kind": group.kind,
                        "label": group.label,
                        "results": [
                            {"id": hit.id, "title": hit.title, "subtitle": hit.subtitle, "url": hit.url}
                            for hit in group.hits
                        ],
                        "more": group.more,
                        "see_all_url": group.see_all_url,
                    }
                    for group in groups
                ],
            }
        )
