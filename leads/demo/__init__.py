"""Demo data of acquisition: ops set-up first (sources, campaigns, territories, scoring), then leads."""

from __future__ import annotations

import random

from leads.demo import leads, ops


def seed(*, tenant, members: dict, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    ops.seed(tenant=tenant, members=members, rng=rng)
    leads.seed(tenant=tenant, members=members, rng=rng)
