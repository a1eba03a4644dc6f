"""API of the company's value lists under /api/v1/t/<slug>/value-lists/ (crm.value_lists):

- `GET value-lists/` the lists; `GET value-lists/<list>/` a list's values (every member reads them);
- `POST value-lists/<list>/` adds a value, `PATCH value-lists/<list>/<value>/` renames its label or retires it (or
  brings it back), `DELETE value-lists/<list>/<value>/` deletes a value the company added and no record uses (admins).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm import value_lists
from crm.models import ValueListKey
from crm.permissions import IsTenantMember
from crm.schema import request_example, response_example
from crm.types import tenant_request

VALUE_EXAMPLE = {"value": "seo", "label": "SEO", "built_in": False, "retired": False}


@extend_schema_serializer(
    examples=[
        response_example("A value the company added", VALUE_EXAMPLE),
        request_example("Add a channel", {"value": "seo", "label": "SEO"}),
    ]
)
class ListValueSerializer(serializers.Serializer):
    value = serializers.CharField(
        max_length=value_lists.MAX_VALUE, help_text=_("The stored value (never changes).")
    )
    # A field named "label" shadows Field.label (a str) for the type checker only.
    label = serializers.CharField(  # type: ignore[assignment]
        max_length=200, required=False, allow_blank=True, help_text=_("What people see.")
    )
    built_in = serializers.BooleanField(read_only=True)
    retired = serializers.BooleanField(
        read_only=True, help_text=_("Retired: kept on old records, not offered.")
    )


@extend_schema_serializer(
    examples=[
        request_example("Rename", {"label": "Search engine optimisation"}),
        request_example("Retire", {"retired": True}),
    ]
)
class ListValueUpdateSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=200, required=False, allow_blank=True)  # type: ignore[assignment]
    retired = serializers.BooleanField(required=False)


class ValueListSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]


def _key(list_key: str) -> str:
    if list_key not in ValueListKey.values:
        raise Http404
    return list_key


def _check_edit(request: Request) -> None:
    if not value_lists.value_lists_can_edit(tenant_request(request).membership):
        raise PermissionDenied(_("Only an admin can change the company's value lists."))


def _data(item: value_lists.ListValue) -> dict[str, Any]:
    return {"value": item.value, "label": item.label, "built_in": item.built_in, "retired": item.retired}


class ValueListsView(APIView):
    permission_classes = [IsTenantMember]

    @extend_schema(
        summary="The company's value lists",
        responses={200: ValueListSerializer(many=True)},
        operation_id="value_lists_index",
        examples=[response_example("Lists", {"key": "channel", "label": "Campaign channel"})],
    )
    def get(self, request: Request, slug: str) -> Response:
        return Response([{"key": key, "label": str(label)} for key, label in ValueListKey.choices])


class ValueListView(APIView):
    permission_classes = [IsTenantMember]

    @extend_schema(
        summary="A list's values (built-ins first; retired ones flagged)",
        responses={200: ListValueSerializer(many=True), 404: OpenApiResponse(description="Unknown list")},
        examples=[
            response_example(
                "A built-in channel",
                {"value": "event", "label": "Event / trade show", "built_in": True, "retired": False},
            )
        ],
        operation_id="value_list_values",
    )
    def get(self, request: Request, slug: str, list_key: str) -> Response:
        tenant = tenant_request(request).tenant
        return Response(
            [_data(item) for item in value_lists.value_list(tenant=tenant, list_key=_key(list_key))]
        )

    @extend_schema(
        summary="Add a value (admins)",
        request=ListValueSerializer,
        responses={201: ListValueSerializer, 404: OpenApiResponse(description="Unknown list")},
    )
    def post(self, request: Request, slug: str, list_key: str) -> Response:
        list_key = _key(list_key)
        _check_edit(request)
        serializer = ListValueSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        member_request = tenant_request(request)
        item = value_lists.value_add(
            tenant=member_request.tenant,
            actor=member_request.user,
            list_key=list_key,
            value=serializer.validated_data["value"],
            label=serializer.validated_data.get("label", ""),
        )
        return Response(_data(item), status=status.HTTP_201_CREATED)


class ValueListItemView(APIView):
    permission_classes = [IsTenantMember]

    def _find(self, request: Request, list_key: str, value: str) -> value_lists.ListValue:
        tenant = tenant_request(request).tenant
        for item in value_lists.value_list(tenant=tenant, list_key=_key(list_key)):
            if item.value == value:
                return item
        raise Http404

    @extend_schema(
        summary="Rename a value's label, retire it or bring it back (admins)",
        request=ListValueUpdateSerializer,
        responses={200: ListValueSerializer, 404: OpenApiResponse(description="Unknown list or value")},
    )
    def patch(self, request: Request, slug: str, list_key: str, value: str) -> Response:
        self._find(request, list_key, value)
        _check_edit(request)
        serializer = ListValueUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        member_request = tenant_request(request)
        item = value_lists.value_update(
            tenant=member_request.tenant,
            actor=member_request.user,
            list_key=list_key,
            value=value,
            label=serializer.validated_data.get("label"),
            retired=serializer.validated_data.get("retired"),
        )
        return Response(_data(item))

    @extend_schema(
        summary="Delete a value the company added that no record uses (admins); others can only be retired",
        responses={204: None, 404: OpenApiResponse(description="Unknown list or value")},
    )
    def delete(self, request: Request, slug: str, list_key: str, value: str) -> Response:
        self._find(request, list_key, value)
        _check_edit(request)
        member_request = tenant_request(request)
        value_lists.value_delete(
            tenant=member_request.tenant, actor=member_request.user, list_key=list_key, value=value
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
