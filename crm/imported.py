"""Whether the writes in this context replay history (an import job): the services of every app ask here instead
of importing the imports app, which sits above them.

A migration from another CRM brings records owned by people who have not accepted their invitation yet or who left
the company (Salesforce allows inactive owners on import for the same reason), and it brings finished history:
statuses and timestamps as they were. Inside `historical_import()`:

- an owner may be an active, invited or deactivated member (`owner_statuses`); rules that pick an owner
  themselves (assignment rules, renewals) still pick active members only, so no new work goes to someone gone;
- logging an activity moves no lead status (leads.services.activity): the imported status is the truth.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar

from crm.models import MembershipStatus

_historical: ContextVar[bool] = ContextVar("crm_historical_import", default=False)

ACTIVE_ONLY = (MembershipStatus.ACTIVE,)
ANY_STATUS = (MembershipStatus.ACTIVE, MembershipStatus.INVITED, MembershipStatus.DEACTIVATED)


@contextmanager
def _raised(flag: ContextVar[bool]) -> Iterator[None]:
    """`flag` is True inside the block (this thread or task only), as it was after it."""
    token = flag.set(True)
    try:
        yield
    finally:
        flag.reset(token)


def historical_import() -> AbstractContextManager[None]:
    """Mark the writes inside the block as history being imported (see the module's docstring)."""
    return _raised(_historical)


def historical_import_running() -> bool:
    return _historical.get()


def owner_statuses() -> tuple[str, ...]:
    """The membership statuses an owner chosen for a record may have here: active, or any during an import."""
    return ANY_STATUS if _historical.get() else ACTIVE_ONLY


_clocks_at_end: ContextVar[bool] = ContextVar("crm_lead_clocks_at_end", default=False)


def lead_clocks_at_end() -> AbstractContextManager[None]:
    """The activities logged inside the block are new rows of an import job that moves the leads' activity clocks
    for all of them at its end (leads.services.activity.leads_catch_up_activity_clocks, from the job's
    RowImporter.settle, in the transaction that ends the job however it ends): one UPDATE per lead per job instead
    of one per lead per chunk (each costs a new version of the lead's row in all its indexes and a history event).
    While the job runs, the clocks of the leads it touches lag behind the activities already imported."""
    return _raised(_clocks_at_end)


def lead_clocks_deferred() -> bool:
    return _clocks_at_end.get()
