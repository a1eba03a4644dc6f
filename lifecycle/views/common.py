"""What the customer-success pages share: who edits, and page-number pagination."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator

from crm.models import Role
from crm.types import TenantHttpRequest

CS_EDITORS = [Role.ADMIN, Role.CS]
PAGE_SIZE = 25


def _page(request: TenantHttpRequest, qs: Any) -> Any:
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request: TenantHttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
