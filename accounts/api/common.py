"""What the accounts API viewsets share: the roles that write and merge, the writer check, the sort parameter and
the serializer mixin that limits choices to visible records (versions, soft delete, 409: crm.api_records)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request

from accounts.links import lead_link
from accounts.selectors import members as members_selectors
from accounts.selectors import visibility as visibility_selectors
from accounts.selectors.opportunities import opportunity_base
from crm.models import Role
from crm.types import tenant_request

WRITERS = {Role.ADMIN, Role.SALES_MANAGER, Role.SALES_REP, Role.CS}


MERGERS = {Role.ADMIN, Role.SALES_MANAGER, Role.CS}


class _VisibleChoicesMixin:
    """Relation fields limited to the tenant and to what the member may see: anything else 'does not exist'."""

    def _limit_choices(self) -> None:
        request = self.context.get("request")  # type: ignore[attr-defined]
        tenant = getattr(request, "tenant", None)
        membership = getattr(request, "membership", None)
        if tenant is None or membership is None:
            return
        fields = self.fields  # type: ignore[attr-defined]
        if "owner" in fields:
            fields["owner"].queryset = members_selectors.members_for_choices(tenant=tenant)
        for name in ("parent", "account"):
            if name in fields:
                fields[name].queryset = visibility_selectors.account_queryset(
                    tenant=tenant, membership=membership
                )
        if "contact" in fields:
            fields["contact"].queryset = visibility_selectors.contact_queryset(
                tenant=tenant, membership=membership
            )
        if "opportunity" in fields:
            fields["opportunity"].queryset = _visible_opportunities(tenant, membership)
        if "lead" in fields:
            fields["lead"].queryset = _visible_leads(tenant, membership)


def _visible_opportunities(tenant: Any, membership: Any) -> QuerySet:
    return opportunity_base(tenant=tenant, membership=membership)


def _visible_leads(tenant: Any, membership: Any) -> QuerySet:
    return lead_link().queryset(tenant=tenant, membership=membership)


def _require_writer(request: Request) -> None:
    if tenant_request(request).membership.role not in WRITERS:
        raise PermissionDenied(_("Your role cannot change these records."))


def _service_fields(data: dict) -> dict:
    return {key: value for key, value in data.items() if key != "version"}


SORT_PARAM = OpenApiParameter(
    "sort",
    str,
    description="name | -name | -created | created (keyset pagination follows it)",
    required=False,
)
