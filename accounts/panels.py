"""Panels that higher apps add to the account, deal and contact pages. accounts is a lower layer and imports none
of them: each app registers its panels in its AppConfig.ready(), and the page shows those the member's role may
see, in order.

    from accounts.panels import register_account_panel
    register_account_panel("subscriptions", 20, "lifecycle/partials/_subscription_list.html",
                           subscriptions_panel, EVERYONE, column=MAIN)

A panel's `context(page)` returns the context its template reads (None hides the panel). It runs only for a page
the member may see (the page's own visibility check came first) and reads through its app's selectors, in a
fixed number of queries whatever the data size; panels of one app share work through `page.once(key, factory)`.
The page renders each panel with `{% render_panel panel %}` (accounts.templatetags.panel_tags).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from django.http import HttpRequest

from crm.types import TenantHttpRequest

# Where a panel goes on the page: the narrow side column or the wide main column.
SIDE = "side"
MAIN = "main"
COLUMNS = (SIDE, MAIN)

ACCOUNT = "account"
DEAL = "deal"
CONTACT = "contact"
PAGES = (ACCOUNT, DEAL, CONTACT)


@dataclass
class PanelPage:
    """What a panel's context function gets: the request (tenant, member) and the record of the page."""

    request: TenantHttpRequest
    record: Any
    _memo: dict[str, Any] = field(default_factory=dict)

    def once(self, key: str, factory: Callable[[], Any]) -> Any:
        if key not in self._memo:
            self._memo[key] = factory()
        return self._memo[key]


@dataclass(frozen=True)
class Panel:
    key: str
    order: int
    template: str
    context: Callable[[PanelPage], dict[str, Any] | None]
    roles: frozenset[str]
    column: str = MAIN


@dataclass(frozen=True)
class ShownPanel:
    key: str
    template: str
    context: dict[str, Any]


_PANELS: dict[str, dict[str, Panel]] = {page: {} for page in PAGES}


def _register(page: str, panel: Panel) -> Panel:
    if panel.column not in COLUMNS:
        raise ValueError(f"{page} panel {panel.key!r}: unknown column {panel.column!r}")
    panels = _PANELS[page]
    if panel.key in panels and panels[panel.key] != panel:
        raise ValueError(f"{page} panel {panel.key!r} is registered twice")
    panels[panel.key] = panel
    return panel


def register_account_panel(
    key: str,
    order: int,
    template: str,
    context: Callable[[PanelPage], dict[str, Any] | None],
    roles: frozenset[str],
    *,
    column: str = MAIN,
) -> Panel:
    return _register(ACCOUNT, Panel(key, order, template, context, frozenset(roles), column))


def register_deal_panel(
    key: str,
    order: int,
    template: str,
    context: Callable[[PanelPage], dict[str, Any] | None],
    roles: frozenset[str],
    *,
    column: str = MAIN,
) -> Panel:
    return _register(DEAL, Panel(key, order, template, context, frozenset(roles), column))


def register_contact_panel(
    key: str,
    order: int,
    template: str,
    context: Callable[[PanelPage], dict[str, Any] | None],
    roles: frozenset[str],
    *,
    column: str = MAIN,
) -> Panel:
    return _register(CONTACT, Panel(key, order, template, context, frozenset(roles), column))


def registered_panels(page: str) -> list[Panel]:
    return sorted(_PANELS[page].values(), key=lambda panel: (panel.order, panel.key))


def panels_for(page: str, *, request: HttpRequest, record: Any) -> dict[str, list[ShownPanel]]:
    """The panels to show on `page` for `record`, by column, in order; a panel whose context is None is left out.
    `request` went through the tenant middleware (tenant and membership set)."""
    tenant_request = cast(TenantHttpRequest, request)
    shared = PanelPage(request=tenant_request, record=record)
    shown: dict[str, list[ShownPanel]] = {column: [] for column in COLUMNS}
    for panel in registered_panels(page):
        if tenant_request.membership.role not in panel.roles:
            continue
        context = panel.context(shared)
        if context is not None:
            shown[panel.column].append(ShownPanel(key=panel.key, template=panel.template, context=context))
    return shown
