"""The tenant home: what each role should look at first. The core knows no domain app: each app registers its
cards in its AppConfig.ready(), and the page shows the cards the member's role may see, in order.

    from crm.home import HomeCard, register_home_card
    register_home_card(HomeCard(key="open_deals", region=FIGURES, order=10, roles=SALES,
                                template="accounts/home/_deal_figures.html", build=deal_figures))

A card's `build(page)` returns the context its template reads as `card` (None hides the card). It reads only
through its app's selectors, in a bounded number of aggregate queries whatever the data size; cards of one app
share a computation through `page.once(key, factory)` (e.g. the member's visible deals, built once per page).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crm.models import Membership, Tenant

# The page's two regions: the row of key figures at the top, then the grid of cards.
FIGURES = "figures"
MAIN = "main"
REGIONS = (FIGURES, MAIN)


@dataclass
class HomePage:
    """What a card builder gets: the tenant, the member, and a per-page memo for work shared between cards."""

    tenant: Tenant
    membership: Membership
    _memo: dict[str, Any] = field(default_factory=dict)

    def once(self, key: str, factory: Callable[[], Any]) -> Any:
        if key not in self._memo:
            self._memo[key] = factory()
        return self._memo[key]


@dataclass(frozen=True)
class HomeCard:
    key: str
    order: int
    roles: frozenset[str]
    template: str
    build: Callable[[HomePage], dict[str, Any] | None]
    region: str = MAIN


@dataclass(frozen=True)
class ShownCard:
    key: str
    template: str
    context: dict[str, Any]


_CARDS: dict[str, HomeCard] = {}


def register_home_card(card: HomeCard) -> HomeCard:
    if card.region not in REGIONS:
        raise ValueError(f"home card {card.key!r}: unknown region {card.region!r}")
    if card.key in _CARDS and _CARDS[card.key] != card:
        raise ValueError(f"home card {card.key!r} is registered twice")
    _CARDS[card.key] = card
    return card


def home_cards() -> list[HomeCard]:
    return sorted(_CARDS.values(), key=lambda card: (card.order, card.key))


def home_data(*, tenant: Tenant, membership: Membership) -> dict[str, list[ShownCard]]:
    """The cards to show, by region, in order; a card whose builder returns None is left out."""
    page = HomePage(tenant=tenant, membership=membership)
    shown: dict[str, list[ShownCard]] = {region: [] for region in REGIONS}
    for card in home_cards():
        if membership.role not in card.roles:
            continue
        context = card.build(page)
        if context is not None:
            shown[card.region].append(ShownCard(key=card.key, template=card.template, context=context))
    return shown
