"""Hand-made customer data for the health, feedback and playbook tests."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accounts.models import Account, LifecycleStageName, OpportunityType, StageKind
from accounts.services.pipelines import pipeline_default
from crm.dates import tenant_today
from crm.tenancy import tenant_context
from tests.factories_accounts import AccountFactory, ActivityFactory
from tests.factories_deals import OpportunityFactory

NOW = timezone.now()


def customer(tenant, stage: str = LifecycleStageName.RETENTION, **kwargs) -> Account:  # type: ignore[no-untyped-def]
    account = AccountFactory(tenant=tenant, **kwargs)
    with tenant_context(tenant):
        Account.objects.filter(pk=account.pk).update(lifecycle_stage=stage)
    account.lifecycle_stage = stage
    return account


def touch(account: Account, days_ago: int, **kwargs) -> None:  # type: ignore[no-untyped-def]
    ActivityFactory(account=account, done=True, occurred_at=NOW - dt.timedelta(days=days_ago), **kwargs)


def overdue_task(account: Account, days_late: int = 2) -> None:
    ActivityFactory(
        account=account, kind="task", done=False, occurred_at=None, due_at=NOW - dt.timedelta(days=days_late)
    )


def renewal_deal(account: Account, stage_name: str = "Qualification", days_left: int = 20):  # type: ignore[no-untyped-def]
    with tenant_context(account.tenant):
        stage = pipeline_default(tenant=account.tenant).stages.get(name=stage_name)
        assert stage.kind == StageKind.OPEN
    return OpportunityFactory(
        account=account,
        type=OpportunityType.RENEWAL,
        stage=stage,
        expected_close_date=tenant_today(account.tenant) + dt.timedelta(days=days_left),
    )
