"""Factories of customer success (health, feedback, playbooks); see tests/factories.py. Children inherit their
parent's tenant."""

from __future__ import annotations

import factory
from django.utils import timezone

from lifecycle.models import (
    Feedback,
    FeedbackKind,
    HealthScore,
    HealthSettings,
    PlaybookRun,
    PlaybookTemplate,
    PlaybookTrigger,
)
from tests.factories import TenantOwnedFactory

__all__ = [
    "FeedbackFactory",
    "HealthScoreFactory",
    "HealthSettingsFactory",
    "PlaybookRunFactory",
    "PlaybookTemplateFactory",
]


class _AccountChildFactory(TenantOwnedFactory):
    class Meta:
        abstract = True

    account = factory.SubFactory(
        "tests.factories_accounts.AccountFactory", tenant=factory.SelfAttribute("..tenant")
    )

    @classmethod
    def _generate(cls, strategy, params):  # type: ignore[no-untyped-def]
        account = params.get("account")
        if account is not None and "tenant" not in params:
            params["tenant"] = account.tenant
        return super()._generate(strategy, params)


class FeedbackFactory(_AccountChildFactory):
    class Meta:
        model = Feedback

    kind = FeedbackKind.NPS
    score = 9
    comment = factory.Sequence(lambda n: f"Feedback comment {n}")
    received_at = factory.LazyFunction(timezone.now)


class HealthScoreFactory(_AccountChildFactory):
    class Meta:
        model = HealthScore

    score = 55
    components = factory.LazyFunction(dict)
    computed_at = factory.LazyFunction(timezone.now)


class HealthSettingsFactory(TenantOwnedFactory):
    class Meta:
        model = HealthSettings
        django_get_or_create = ("tenant",)


class PlaybookTemplateFactory(TenantOwnedFactory):
    class Meta:
        model = PlaybookTemplate

    trigger = PlaybookTrigger.AT_RISK
    subject = factory.Sequence(lambda n: f"Playbook task {n}")
    due_in_days = 2


class PlaybookRunFactory(_AccountChildFactory):
    class Meta:
        model = PlaybookRun

    trigger = PlaybookTrigger.AT_RISK
    episode_key = factory.Sequence(lambda n: f"episode-{n}")
