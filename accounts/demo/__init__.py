"""Demo data of the sales workspace: accounts first (with contacts, teams and rates), then deals, then activities.
The accounts' lifecycle stages come from the lifecycle engine, which the lifecycle demo seed runs at its end."""

from __future__ import annotations

import random

from accounts.demo import accounts as account_demo
from accounts.demo import activities as activity_demo
from accounts.demo import opportunities as opportunity_demo


def seed(*, tenant, members: dict, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    account_demo.seed(tenant=tenant, members=members, rng=rng)
    opportunity_demo.seed(tenant=tenant, members=members, rng=rng)
    activity_demo.seed_activities(tenant=tenant, members=members, rng=rng)
