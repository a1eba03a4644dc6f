"""API actions of ownership and the pool on /leads/: claim a pool lead, the pool list, its health figures and
the pool settings. Mixed into leads.api.leads.LeadViewSet (which provides `_lead`, `_fresh` and the queryset)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from crm.models import Role
from crm.types import TenantRequest
from leads.api.actions_base import LeadActionsBase
from leads.api.errors import service_errors
from leads.api.lead_serializers import LeadSerializer
from leads.api.pool_serializers import (
    POOL_HEALTH_EXAMPLE,
    POOL_SETTINGS_EXAMPLE,
    PoolHealthSerializer,
    PoolSettingsSerializer,
)
from leads.selectors import pool as pool_selectors
from leads.services import pool as pool_services

HEALTH_ROLES = (Role.ADMIN, Role.OPS, Role.SALES_MANAGER)


class LeadPoolActions(LeadActionsBase):
    """Pool actions of LeadViewSet."""

    @extend_schema(tags=["leads"], request=None, responses={200: LeadSerializer})
    @action(detail=True, methods=["post"])
    def claim(self, request: TenantRequest, slug: str, pk: str) -> Response:
        """Claim an open lead from the pool (up to the tenant's per-rep cap)."""
        lead = self.get_object()
        service_errors(lambda: pool_services.lead_claim(tenant=request.tenant, actor=request.user, lead=lead))
        return self._fresh(lead)

    @extend_schema(
        tags=["leads"],
        summary="The public pool: open leads nobody owns",
        responses={200: LeadSerializer(many=True)},
    )
    @action(detail=False, methods=["get"])
    def pool(self, request: TenantRequest, slug: str) -> Response:
        qs = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(LeadSerializer(page, many=True).data)

    @extend_schema(
        tags=["leads"],
        summary="Pool health: size, age, returns and claims per week, claims per rep",
        responses={200: PoolHealthSerializer},
        examples=[POOL_HEALTH_EXAMPLE],
    )
    @action(
        detail=False, methods=["get"], url_path="pool/health", pagination_class=None, filterset_class=None
    )
    def pool_health(self, request: TenantRequest, slug: str) -> Response:
        """Admins, ops and sales managers (managers: their team's claims)."""
        if request.membership.role not in HEALTH_ROLES:
            raise PermissionDenied(_("Pool health is for admins, ops and sales managers."))
        health = pool_selectors.pool_health(tenant=request.tenant, membership=request.membership)
        return Response(PoolHealthSerializer(health).data)

    @extend_schema(
        tags=["leads"],
        summary="Pool settings: the idle window and the per-rep claim cap",
        request=PoolSettingsSerializer,
        responses={200: PoolSettingsSerializer},
        examples=[POOL_SETTINGS_EXAMPLE],
    )
    @action(
        detail=False,
        methods=["get", "put", "patch"],
        url_path="pool/settings",
        pagination_class=None,
        filterset_class=None,
    )
    def pool_settings(self, request: TenantRequest, slug: str) -> Response:
        """Everyone who works leads reads them; admins and ops change them."""
        current = pool_selectors.lead_settings_get(tenant=request.tenant)
        if request.method == "GET":
            return Response(PoolSettingsSerializer(current).data)
        payload = PoolSettingsSerializer(current, data=request.data, partial=request.method == "PATCH")
        payload.is_valid(raise_exception=True)
        values = {
            "pool_window_days": current.pool_window_days,
            "pool_claim_cap": current.pool_claim_cap,
            **payload.validated_data,
        }
        saved = service_errors(
            lambda: pool_services.lead_settings_update(tenant=request.tenant, actor=request.user, **values)
        )
        return Response(PoolSettingsSerializer(saved).data)
