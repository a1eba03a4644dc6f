"""Demo data of acquisition: the set-up first (setup.py: sources, campaigns, territories, scoring), then leads
(leads.py, with its words in lead_words.py)."""

from __future__ import annotations

import random

from leads.demo import leads, setup


def seed(*, tenant, members: dict, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    setup.seed(tenant=tenant, members=members, rng=rng)
    leads.seed(tenant=tenant, members=members, rng=rng)
