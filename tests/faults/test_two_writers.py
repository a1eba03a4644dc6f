"""Two writers on one deal, 1,000 rounds, each on its own thread and database connection, through the service the
API and the pages call (opportunity_update with the version the writer loaded: optimistic locking). In each round
both writers read the deal, wait for each other, then both write with the version they read: one write wins, the
other must be refused with a ConflictError (the API's 409). Writer A adds 1 to the amount and writer B adds 1,000,
so the final amount tells exactly which writes landed: every one that succeeded, none that was refused."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from accounts.models import Opportunity
from accounts.services.opportunities import opportunity_update
from crm.errors import ConflictError
from crm.tenancy import tenant_context
from tests.factories_deals import OpportunityFactory

ROUNDS = 1000
STEPS = {"A": Decimal("1"), "B": Decimal("1000")}


@pytest.mark.django_db(transaction=True)
def test_two_writers_a_thousand_rounds_every_conflict_detected_no_update_lost(tenant, admin_member):
    with tenant_context(tenant):
        deal = OpportunityFactory(tenant=tenant, amount=Decimal("0.00"), amount_reporting=Decimal("0.00"))
    start_version = deal.version
    read_together = threading.Barrier(2, timeout=60)
    write_together = threading.Barrier(2, timeout=60)
    outcomes: dict[str, list[str]] = {"A": [], "B": []}
    failures: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            # Each read and each write in a transaction of its own, as two requests (load the form, save it).
            for _round in range(ROUNDS):
                read_together.wait()
                with tenant_context(tenant):
                    loaded = Opportunity.objects.get(pk=deal.pk)
                write_together.wait()  # both hold the same version now
                try:
                    with tenant_context(tenant):
                        opportunity_update(
                            tenant=tenant,
                            actor=admin_member.user,
                            opportunity=loaded,
                            version=loaded.version,
                            amount=loaded.amount + STEPS[name],
                        )
                    outcomes[name].append("saved")
                except ConflictError:
                    outcomes[name].append("conflict")
        except BaseException as exc:  # noqa: BLE001 - reported by the test below, with the other thread released
            failures.append(exc)
            read_together.abort()
            write_together.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(name,)) for name in STEPS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not failures, failures
    # Every round: exactly one write saved, the other refused as a conflict (never two saves of one version).
    for number, pair in enumerate(zip(outcomes["A"], outcomes["B"], strict=True)):
        assert sorted(pair) == ["conflict", "saved"], (number, pair)
    saved = {name: outcomes[name].count("saved") for name in STEPS}
    assert saved["A"] + saved["B"] == ROUNDS
    with tenant_context(tenant):
        final = Opportunity.objects.get(pk=deal.pk)
    assert final.version == start_version + ROUNDS
    assert final.amount == saved["A"] * STEPS["A"] + saved["B"] * STEPS["B"]  # no saved write lost
