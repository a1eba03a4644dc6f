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


# `renewed` and `renewal_won` are derived by the database (migration 0004's triggers), not changes anyone makes: not
# in the history.
@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["renewed", "renewal_won", "account_stage", "account_owner_id", "account_live"],
)
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
    # The renewal deal created ahead of the end date (lifecycle/services/renewals.py): set once, under a row lock.
    renewal_opportunity = models.ForeignKey(
        "accounts.Opportunity",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="renewed_subscriptions",
        verbose_name=_("renewal deal"),
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    # Whether a live subscription renews this one (linked by renews_from, or implied: same account, starting after
    # it and within [end - 90 days, end + grace_days]; lifecycle.selectors.subscriptions.successor_exists). Kept by
    # the database: statement triggers refresh the terms of every account a statement touched, and a change of
    # grace_days refreshes the tenant (a trigger on the settings). Read-only for the app; the renewals page
    # and the CS home read it instead of an anti-join per term.
    renewed = models.BooleanField(_("renewed"), default=False, editable=False)
    # Whether its renewal deal is in a won stage, kept by the same triggers (and by triggers on the deals' stage
    # and on the stages' kind): the renewals page's "won, next term to accept" without joining every deal.
    renewal_won = models.BooleanField(_("renewal won"), default=False, editable=False)
    # Copies of the account's stage, owner and liveness (migration 0006's triggers keep them: set from the account
    # on every insert or change of account, and rewritten when the account's own change): the lifecycle page sums
    # MRR by stage within the viewer's visibility without joining every account (AccountColumns).
    account_stage = models.CharField(max_length=12, blank=True, default="", editable=False)
    account_owner_id = models.BigIntegerField(null=True, blank=True, editable=False)
    account_live = models.BooleanField(default=True, editable=False)

    class Meta:
        ordering = ["-start_date", "-id"]
        constraints = [
            # A deal renews at most one subscription (and a subscription has at most one renewal deal: one column).
            models.UniqueConstraint(
                fields=["tenant", "renewal_opportunity"],
                condition=Q(renewal_opportunity__isnull=False),
                name="lifecycle_sub_tenant_renewal_opp_uniq",
            ),
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
            # MRR now by stage within visibility, index-only: live terms of live accounts.
            models.Index(
                fields=["tenant", "account_stage"],
                include=["start_date", "end_date", "mrr", "account_owner_id", "account_id"],
                condition=Q(deleted_at__isnull=True, account_live=True),
                name="lifecycle_sub_stage_mrr_idx",
            ),
            models.Index(fields=["tenant", "end_date"], name="lifecycle_sub_end_idx"),
            # The terms waiting for a renewal (the renewals page's windows), by end date.
            models.Index(
                fields=["tenant", "end_date"],
                condition=Q(renewed=False, deleted_at__isnull=True, end_date__isnull=False),
                name="lifecycle_sub_due_idx",
            ),
            # Those whose renewal deal is won (the renewals page's "won, next term to accept").
            models.Index(
                fields=["tenant", "end_date"],
                condition=Q(renewed=False, renewal_won=True, deleted_at__isnull=True, end_date__isnull=False),
                name="lifecycle_sub_won_idx",
            ),
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
    # Copies of the account's stage, owner and liveness, kept by the database like Subscription's: the flows per
    # month count visible accounts' changes from this table alone.
    account_stage = models.CharField(max_length=12, blank=True, default="", editable=False)
    account_owner_id = models.BigIntegerField(null=True, blank=True, editable=False)
    account_live = models.BooleanField(default=True, editable=False)

    class Meta:
        ordering = ["account", "date"]
        constraints = [
            # Also the index of an account's history (tenant, account, date).
            models.UniqueConstraint(
                fields=["tenant", "account", "date"], name="lifecycle_chg_tenant_acct_date_uniq"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "date"], name="lifecycle_chg_tenant_date_idx"),
            # The flows per month of live accounts, index-only: what they count and what visibility reads.
            models.Index(
                fields=["tenant", "date"],
                include=["from_stage", "to_stage", "account_stage", "account_owner_id", "account_id"],
                condition=Q(account_live=True),
                name="lifecycle_chg_flows_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date}: {self.from_stage or '-'} -> {self.to_stage}"


class LifecycleFlowCount(TenantOwnedModel):
    """Stage changes of live accounts counted per month, change (from, to) and the account's stage and owner now:
    what the lifecycle page's flows per month sum, filtered by the viewer's visibility on (stage, owner). Written
    only by the database: statement triggers on lifecycle_lifecyclechange add the rows a statement wrote and take
    off the rows it removed (migration 0007); an account's change of stage, owner or liveness reaches it through
    the copies on its stage changes (migration 0006)."""

    month = models.DateField()
    from_stage = models.CharField(max_length=12, blank=True)
    to_stage = models.CharField(max_length=12)
    account_stage = models.CharField(max_length=12, blank=True)
    account_owner_id = models.BigIntegerField(null=True, blank=True)
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "month", "from_stage", "to_stage", "account_stage", "account_owner_id"],
                nulls_distinct=False,
                name="lifecycle_flowcount_key_uniq",
            )
        ]

    def __str__(self) -> str:
        return f"{self.month}: {self.from_stage or '-'} -> {self.to_stage} x{self.n}"


# --- Health, feedback and playbooks (customer success) ------------------------------------------------------------


class HealthComponent(models.TextChoices):
    """The parts of an account's health score; each has a weight (HealthSettings) and stores its points."""

    RECENCY = "recency", _("Last touch")
    VOLUME = "volume", _("Activity in 90 days")
    SENTIMENT = "sentiment", _("Latest NPS/CSAT")
    TREND = "trend", _("NPS/CSAT trend")
    RENEWAL = "renewal", _("Renewal progress")
    OVERDUE = "overdue", _("Overdue tasks")
    CADENCE = "cadence", _("Touch cadence")


DEFAULT_HEALTH_WEIGHTS = {
    HealthComponent.RECENCY.value: 20,
    HealthComponent.VOLUME.value: 15,
    HealthComponent.SENTIMENT.value: 20,
    HealthComponent.TREND.value: 10,
    HealthComponent.RENEWAL.value: 15,
    HealthComponent.OVERDUE.value: 10,
    HealthComponent.CADENCE.value: 10,
}
# Days between touches each tier expects (key accounts every 14 days).
DEFAULT_TOUCH_CADENCE = {"key": 14, "strategic": 21, "standard": 30, "long_tail": 60}


class HealthSettings(TenantOwnedModel):
    """The tenant's health weights (per component, summing to 100) and touch cadence per tier (days). The at-risk
    threshold is LifecycleSettings.health_at_risk_threshold."""

    weight_recency = models.PositiveSmallIntegerField(_("weight: last touch"), default=20)
    weight_volume = models.PositiveSmallIntegerField(_("weight: activity in 90 days"), default=15)
    weight_sentiment = models.PositiveSmallIntegerField(_("weight: latest NPS/CSAT"), default=20)
    weight_trend = models.PositiveSmallIntegerField(_("weight: NPS/CSAT trend"), default=10)
    weight_renewal = models.PositiveSmallIntegerField(_("weight: renewal progress"), default=15)
    weight_overdue = models.PositiveSmallIntegerField(_("weight: overdue tasks"), default=10)
    weight_cadence = models.PositiveSmallIntegerField(_("weight: touch cadence"), default=10)
    cadence_key = models.PositiveSmallIntegerField(
        _("touch cadence: key accounts (days)"), default=14, validators=[MinValueValidator(1)]
    )
    cadence_strategic = models.PositiveSmallIntegerField(
        _("touch cadence: strategic accounts (days)"), default=21, validators=[MinValueValidator(1)]
    )
    cadence_standard = models.PositiveSmallIntegerField(
        _("touch cadence: standard accounts (days)"), default=30, validators=[MinValueValidator(1)]
    )
    cadence_long_tail = models.PositiveSmallIntegerField(
        _("touch cadence: long-tail accounts (days)"), default=60, validators=[MinValueValidator(1)]
    )
    # The default playbook templates are made once (on first use); deleting them later must not bring them back.
    playbooks_seeded = models.BooleanField(default=False, editable=False)

    class Meta:
        verbose_name = _("health settings")
        verbose_name_plural = _("health settings")
        constraints = [models.UniqueConstraint(fields=["tenant"], name="lifecycle_healthset_tenant_uniq")]

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    def weights(self) -> dict[str, int]:
        return {name: getattr(self, f"weight_{name}") for name in HealthComponent.values}

    def cadence(self) -> dict[str, int]:
        return {tier: getattr(self, f"cadence_{tier}") for tier in DEFAULT_TOUCH_CADENCE}


class HealthScore(TenantOwnedModel):
    """An account's health (0-100) with its components: {name: {"value", "points", "weight", "reason", ...}}.
    Written only by the set-based recompute (lifecycle/services/health.py)."""

    account = models.OneToOneField("accounts.Account", on_delete=models.CASCADE, related_name="health")
    score = models.PositiveSmallIntegerField(_("health score"))
    components = models.JSONField(_("components"), default=dict)
    at_risk_since = models.DateTimeField(_("at risk since"), null=True, blank=True)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("health score")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "account"], name="lifecycle_health_tenant_acct_uniq"),
            models.CheckConstraint(
                condition=Q(score__gte=0) & Q(score__lte=100), name="lifecycle_health_score_range"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "score"], name="lifecycle_health_score_idx")]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.score}"


class FeedbackKind(models.TextChoices):
    NPS = "nps", _("NPS (0-10)")
    CSAT = "csat", _("CSAT (1-5)")


class FeedbackChannel(models.TextChoices):
    SURVEY = "survey", _("Survey")
    CALL = "call", _("Call")
    EMAIL = "email", _("Email")
    MEETING = "meeting", _("Meeting")
    IMPORT = "import", _("Import")
    API = "api", _("API")
    OTHER = "other", _("Other")


# The score range of each kind (inclusive).
FEEDBACK_RANGES = {FeedbackKind.NPS.value: (0, 10), FeedbackKind.CSAT.value: (1, 5)}


# Every answer's changes are kept (who changed a score or a comment, and a deleted answer's last values); a survey
# link's token is not history.
@pghistory.track(
    pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), exclude=["survey_nonce"]
)
class Feedback(TenantOwnedModel):
    """A customer's NPS (0-10) or CSAT (1-5) answer."""

    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="feedback")
    contact = models.ForeignKey(
        "accounts.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="feedback"
    )
    kind = models.CharField(_("kind"), max_length=4, choices=FeedbackKind.choices)
    score = models.PositiveSmallIntegerField(_("score"))
    comment = models.TextField(_("comment"), blank=True)
    channel = models.CharField(
        _("channel"), max_length=10, choices=FeedbackChannel.choices, default=FeedbackChannel.CALL
    )
    received_at = models.DateTimeField(_("received at"))
    # The nonce of the survey link that gave this answer: one answer per link, enforced by the database.
    survey_nonce = models.CharField(max_length=40, blank=True, editable=False)
    created_by = models.ForeignKey(
        "crm.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"],
                condition=~Q(external_id=""),
                name="lifecycle_fb_tenant_ext_uniq",
            ),
            models.UniqueConstraint(
                fields=["tenant", "survey_nonce"],
                condition=~Q(survey_nonce=""),
                name="lifecycle_fb_tenant_nonce_uniq",
            ),
            models.CheckConstraint(
                condition=(Q(kind="nps") & Q(score__gte=0) & Q(score__lte=10))
                | (Q(kind="csat") & Q(score__gte=1) & Q(score__lte=5)),
                name="lifecycle_fb_score_range",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "account", "kind", "received_at"], name="lifecycle_fb_acct_idx"),
            models.Index(fields=["tenant", "received_at"], name="lifecycle_fb_received_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.score}"


class PlaybookTrigger(models.TextChoices):
    ONBOARDING = "onboarding", _("Account enters onboarding (conversion)")
    AT_RISK = "at_risk", _("Account becomes at risk")


class PlaybookAssignee(models.TextChoices):
    OWNER = "owner", _("Account owner")
    CS = "cs", _("A customer success member")
    MANAGER = "manager", _("The owner's manager")


class PlaybookTemplate(TenantOwnedModel):
    """A task to open when an account enters a playbook's trigger."""

    trigger = models.CharField(_("trigger"), max_length=12, choices=PlaybookTrigger.choices)
    subject = models.CharField(_("subject"), max_length=200)
    due_in_days = models.PositiveSmallIntegerField(
        _("due in (days)"), default=3, validators=[MaxValueValidator(365)]
    )
    assignee = models.CharField(
        _("assignee"), max_length=8, choices=PlaybookAssignee.choices, default=PlaybookAssignee.OWNER
    )
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("playbook task")
        ordering = ["trigger", "order", "id"]
        indexes = [models.Index(fields=["tenant", "trigger"], name="lifecycle_pbt_trigger_idx")]

    def __str__(self) -> str:
        return self.subject


class PlaybookRun(TenantOwnedModel):
    """A playbook that ran for an account's episode (the stage entry date, the at-risk entry): never twice."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    trigger = models.CharField(max_length=12, choices=PlaybookTrigger.choices)
    episode_key = models.CharField(max_length=40)
    tasks_created = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "account", "trigger", "episode_key"], name="lifecycle_pbrun_episode_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.trigger} {self.episode_key}"
