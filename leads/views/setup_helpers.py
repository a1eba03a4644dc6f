"""What the pages of sources, campaigns, territories and scoring rules share: the role checks (read pages:
sources and campaigns for every selling role, territories and scoring rules for admin, ops and managers; edit
pages and actions: admin and ops only, other roles get 404, never 403), 404 for a missing row, the `can_edit` context."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from crm.decorators import tenant_roles_required
from crm.types import TenantHttpRequest
from leads.models import Campaign, LeadSource, ScoringRule, Territory
from leads.selectors import setup_roles as setup_roles_selectors

read_sources = tenant_roles_required(setup_roles_selectors.SOURCE_READ_ROLES)


read_config = tenant_roles_required(setup_roles_selectors.CONFIG_READ_ROLES)


edit_only = tenant_roles_required(setup_roles_selectors.EDIT_ROLES)


def get_or_404(getter: Any, **kwargs: Any) -> Any:
    try:
        return getter(**kwargs)
    except (LeadSource.DoesNotExist, Campaign.DoesNotExist, Territory.DoesNotExist, ScoringRule.DoesNotExist):
        raise Http404 from None


def setup_context(request: TenantHttpRequest, **extra: Any) -> dict[str, Any]:
    return {"can_edit": setup_roles_selectors.can_edit(request.membership), **extra}
