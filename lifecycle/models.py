"""Customer lifecycle: per-tenant settings, subscriptions (contracts) and the derived stage history of accounts.

The stage rules are KPIS.md's "Lifecycle of an account"; the engine that applies them is
lifecycle/services/stages.py. `Account.lifecycle_stage` (accounts app) holds the current stage; this app keeps it.
"""

from __future__ import annotations

import datetime

import pghistory
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import LifecycleStageName
from crm.tenancy import TenantOwnedModel

# Sane maxima for the windows of the settings (days): ten years is far beyond any real contract rhythm.
MAX_WINDOW_DAYS = 3650


class LifecycleSettings(TenantOwnedModel):
    """The tenant's windows of the lifecycle rules (KPIS.md): a setting may change a window, never a formula."""

    onboarding_days = models.PositiveIntegerField(
        _("onboarding days"),
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_WINDOW_DAYS)],
    )
    grace_days = models.PositiveIntegerField(
        _("grace days"), default=30, validators=[MinValueValidator(0), MaxValueValidator(MAX_WINDOW_DAYS)]
    )
    lapse_days = models.PositiveIntegerField(
        _("lapse days"), default=365, validators=[MinValueValidator(1), MaxValueValidator(MAX_WINDOW_DAYS)]
    )
    renewal_lead_days = models.PositiveIntegerField(
        _("renewal lead days"),
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_WINDOW_DAYS)],
    )
    health_at_risk_threshold = models.PositiveSmallIntegerField(
        _("at-risk health threshold"), default=40, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )

    class Meta:
        verbose_name = _("lifecycle settings")
        verbose_name_plural = _("lifecycle settings")
        constraints = [models.UniqueConstraint(fields=["tenant"], name="lifecycle_settings_tenant_uniq")]

    def __str__(self) -> str:
        return str(self._meta.verbose_name)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Subscription(TenantOwnedModel):
    """A term of a customer's contract: active on d when start_date <= d < end_date (no end date: open-ended)."""

    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="subscriptions")
    plan = models.CharField(_("plan"), max_length=200, blank=True)
    mrr = models.DecimalField(
        _("MRR"), max_digits=14, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    currency = models.CharField(_("currency"), max_length=3)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True, help_text=_("Empty: open-ended."))
    renews_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="renewals",
        verbose_name=_("renews"),
    )
    churn_reason = models.TextField(_("churn reason"), blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-start_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"],
                condition=~Q(external_id=""),
                name="lifecycle_sub_tenant_ext_uniq",
            ),
            models.CheckConstraint(condition=Q(mrr__gte=0), name="lifecycle_sub_mrr_nonneg"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gt=models.F("start_date")),
                name="lifecycle_sub_end_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "account", "start_date"], name="lifecycle_sub_account_idx"),
            models.Index(fields=["tenant", "end_date"], name="lifecycle_sub_end_idx"),
        ]

    def __str__(self) -> str:
        return self.plan or f"#{self.pk}"

    def is_active_on(self, day: datetime.date) -> bool:
        return self.start_date <= day and (self.end_date is None or day < self.end_date)


class LifecycleCause(models.TextChoices):
    """Why an account changed stage on a date (the event the engine found in the data)."""

    CREATED = "created", _("Account created")
    FIRST_WON_DEAL = "first_won_deal", _("First won deal")
    FIRST_SUBSCRIPTION = "first_subscription", _("First subscription")
    ONBOARDING_DONE = "onboarding_done", _("Onboarding period over")
    CHURNED = "churned", _("Subscriptions ended (grace period over)")
    LAPSED = "lapsed", _("No subscription and no won deal within the lapse period")
    CAME_BACK = "came_back", _("Came back")


class LifecycleChange(TenantOwnedModel):
    """One change of an account's lifecycle stage, derived from the data (rewritten by every recompute)."""

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="lifecycle_changes"
    )
    from_stage = models.CharField(
        _("from stage"), max_length=12, choices=LifecycleStageName.choices, blank=True
    )
    to_stage = models.CharField(_("to stage"), max_length=12, choices=LifecycleStageName.choices)
    date = models.DateField(_("date"))
    cause = models.CharField(_("cause"), max_length=20, choices=LifecycleCause.choices)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        ordering = ["account", "date"]
        constraints = [
            # Also the index of an account's history (tenant, account, date).
            models.UniqueConstraint(
                fields=["tenant", "account", "date"], name="lifecycle_chg_tenant_acct_date_uniq"
            )
        ]
        indexes = [models.Index(fields=["tenant", "date"], name="lifecycle_chg_tenant_date_idx")]

    def __str__(self) -> str:
        return f"{self.date}: {self.from_stage or '-'} -> {self.to_stage}"
