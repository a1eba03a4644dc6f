"""The base of LeadViewSet's action mixins (pool, merges, conversion). To the type checker it is a GenericViewSet
with a tenant request and LeadViewSet's helpers; at run time it is an empty class, since LeadViewSet brings both."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rest_framework import viewsets
    from rest_framework.response import Response

    from crm.types import TenantRequest
    from leads.models import Lead

    class LeadActionsBase(viewsets.GenericViewSet):
        request: TenantRequest

        def _lead(self) -> Lead:
            raise NotImplementedError

        def _fresh(self, lead: Lead) -> Response:
            raise NotImplementedError

        def _writer(self) -> None:
            raise NotImplementedError

else:

    class LeadActionsBase:
        pass
