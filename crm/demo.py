"""The registry of demo seeders. `manage.py seed_demo` creates the demo tenants and their people, then calls
every registered seeder inside the tenant's context, lowest order first (accounts, then leads that convert into
accounts and deals, then lifecycle's subscriptions and feedback, then imports). Apps register in their
AppConfig.ready():

    from crm.demo import register_demo_seeder
    register_demo_seeder("accounts", seed, order=10)

A seeder is `seed(*, tenant, members, rng)`; `members` maps the demo logins to their memberships and `rng` is
shared, so the order is part of the data seeded.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crm.models import Membership, Tenant
from crm.value_lists import value_lists_adopt_in_use

Seeder = Callable[..., Any]


@dataclass(frozen=True)
class DemoSeeder:
    app_label: str
    seed: Seeder
    order: int


_SEEDERS: dict[str, DemoSeeder] = {}


def register_demo_seeder(app_label: str, seed: Seeder, order: int) -> DemoSeeder:
    if app_label in _SEEDERS and _SEEDERS[app_label].seed is not seed:
        raise ValueError(f"demo seeder of {app_label!r} is registered twice")
    _SEEDERS[app_label] = DemoSeeder(app_label=app_label, seed=seed, order=order)
    return _SEEDERS[app_label]


def demo_seeders() -> list[DemoSeeder]:
    return sorted(_SEEDERS.values(), key=lambda seeder: (seeder.order, seeder.app_label))


def seed_all(*, tenant: Tenant, members: dict[str, Membership], rng: random.Random) -> None:
    for seeder in demo_seeders():
        seeder.seed(tenant=tenant, members=members, rng=rng)
    # The demo's industries, regions and lost reasons are the company's list values, as a migration would add.
    value_lists_adopt_in_use(tenant=tenant)
