"""What accounts needs from the leads app, without importing it (leads sits above accounts: the one-way house).

Activities and deals may be linked to a lead. Accounts reads leads only through the link the leads app registers
in its AppConfig.ready():

    from accounts.links import LeadLink, register_lead_link
    register_lead_link(LeadLink(model=Lead, queryset=lead_queryset, visibility_q=lead_visibility_q, get=lead_get))

With no link registered every lead read raises ImproperlyConfigured: a missing visibility rule must never show
leads to everybody (fail closed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, Q, QuerySet

from crm.models import Membership


@dataclass(frozen=True)
class LeadLink:
    # (*, tenant, membership) -> the live leads this member may see
    queryset: Callable[..., QuerySet[Any]]
    # membership -> the Q of the leads it may see (None: all of them; a Q matching nothing: none)
    visibility_q: Callable[[Membership], Q | None]
    # (*, tenant, membership, pk) -> one visible live lead; raises the model's DoesNotExist otherwise
    get: Callable[..., Model]
    # The lead model (for visibility subqueries across tenants' rows and for DoesNotExist)
    model: type[Model]
    # membership -> whether it may open the lead sources and campaign pages (a deal page links its source and
    # campaign there only then; otherwise it names them)
    can_read_sources: Callable[[Membership], bool] = lambda membership: False


_link: LeadLink | None = None


def register_lead_link(link: LeadLink) -> None:
    """Called once by the leads app's ready(); registering again replaces the link (autoreload, tests)."""
    global _link
    _link = link


def lead_link() -> LeadLink:
    """The registered link; ImproperlyConfigured when the leads app did not register one."""
    if _link is None:
        raise ImproperlyConfigured(
            "No lead link registered: the leads app registers it in LeadsConfig.ready()."
        )
    return _link
