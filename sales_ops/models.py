"""KPI snapshots (KPIS.md), their sets, recompute jobs, quotas and the tenant's KPI settings.

A full recompute writes a new `KpiSnapshotSet` (not current) and its rows, then flips `is_current` in one short
transaction: a reader joins rows to the current set, so it sees the old set or the new one, never half of each.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.tenancy import TenantOwnedModel


class Grain(models.TextChoices):
    DAY = "day", _("Day")
    WEEK = "week", _("Week")
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")


class Dimension(models.TextChoices):
    ALL = "all", _("All")
    OWNER = "owner", _("Owner")
    TEAM = "team", _("Team")
    SOURCE = "source", _("Lead source")
    SOURCE_KIND = "source_kind", _("Source kind")
    CAMPAIGN = "campaign", _("Campaign")
    REGION = "region", _("Region")
    TIER = "tier", _("Tier")
    PIPELINE = "pipeline", _("Pipeline")
    TYPE = "type", _("Type")
    STAGE = "stage", _("Stage")


class KpiSnapshotSet(TenantOwnedModel):
    """One full recompute of a tenant's KPIs. Exactly one set per tenant is current (once the first is done)."""

    is_current = models.BooleanField(default=False)
    computed_at = models.DateTimeField()
    # The last refresh of its current periods' deal metrics (services/refresh.py), if any.
    refreshed_at = models.DateTimeField(null=True, blank=True)
    row_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"], condition=Q(is_current=True), name="sales_ops_kpiset_tenant_current_uniq"
            )
        ]
        indexes = [models.Index(fields=["tenant", "is_current"], name="sales_ops_kpiset_current_idx")]

    def __str__(self) -> str:
        return f"KPI set {self.pk} ({self.computed_at:%Y-%m-%d %H:%M})"


class KpiSnapshot(TenantOwnedModel):
    """One value of one metric for one period and one dimension value. Written only by the engine, in bulk.

    A full recompute writes millions of rows at a million leads, so the table carries no more than the readers
    need: no database foreign keys (each row would cost two referential checks at commit, a third of the
    recompute's time above its aggregates; the engine writes the tenant of its context, which row-level security
    checks, and the set it has just created, and deletes a set's rows with the set in one transaction; Django
    still applies PROTECT and CASCADE) and no single-column indexes on the tenant or the set (every query
    carries both, which lead the two composite indexes)."""

    tenant = models.ForeignKey(
        "crm.Tenant",
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_constraint=False,
        db_index=False,
    )
    snapshot_set = models.ForeignKey(
        KpiSnapshotSet, on_delete=models.CASCADE, related_name="rows", db_constraint=False, db_index=False
    )
    metric = models.CharField(max_length=40)
    grain = models.CharField(max_length=8, choices=Grain.choices)
    period_start = models.DateField(help_text=_("First local day of the period."))
    dimension = models.CharField(max_length=12, choices=Dimension.choices, default=Dimension.ALL)
    dimension_value = models.CharField(max_length=254, blank=True, default="")
    value = models.DecimalField(max_digits=30, decimal_places=10, null=True, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["tenant", "snapshot_set", "metric", "grain", "period_start"],
                name="sales_ops_kpi_tenant_set_idx",
            ),
            models.Index(
                fields=["tenant", "snapshot_set", "dimension", "dimension_value"],
                name="sales_ops_kpi_tenant_dim_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.grain} {self.period_start} {self.dimension}={self.dimension_value}"


class RecomputeStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class KpiRecompute(TenantOwnedModel):
    """A requested full recompute ("Recompute now", the API): its status and progress (0..100)."""

    status = models.CharField(max_length=8, choices=RecomputeStatus.choices, default=RecomputeStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(
        default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="sales_ops_recompute_tenant_idx")]

    def __str__(self) -> str:
        return f"KPI recompute {self.pk} ({self.status})"


class KpiSettings(TenantOwnedModel):
    """Per-tenant KPI settings: when dashboards call a snapshot stale, and the gross margin LTV uses."""

    stale_after_minutes = models.PositiveIntegerField(_("stale after (minutes)"), default=60)
    gross_margin = models.DecimalField(
        _("gross margin"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.800"),
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )

    class Meta:
        verbose_name_plural = "KPI settings"
        constraints = [models.UniqueConstraint(fields=["tenant"], name="sales_ops_settings_tenant_uniq")]

    def __str__(self) -> str:
        return f"KPI settings of tenant {self.tenant_id}"


class Quota(TenantOwnedModel):
    """A monthly quota of an owner, of a team, or of the whole tenant (neither owner nor team); KPIS.md rules."""

    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey("crm.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    amount = models.DecimalField(
        _("amount"), max_digits=18, decimal_places=2, validators=[MinValueValidator(0)]
    )

    class Meta:
        ordering = ["month", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(owner__isnull=True) | Q(team__isnull=True), name="sales_ops_quota_owner_or_team"
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="sales_ops_quota_month_first_day"),
            models.UniqueConstraint(
                fields=["tenant", "owner", "team", "month"],
                nulls_distinct=False,
                name="sales_ops_quota_tenant_target_month_uniq",
            ),
            models.UniqueConstraint(
                fields=["tenant", "external_id"],
                condition=~Q(external_id=""),
                name="sales_ops_quota_tenant_ext_uniq",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "month"], name="sales_ops_quota_month_idx")]

    def __str__(self) -> str:
        return f"Quota {self.month:%Y-%m}: {self.amount}"


class ForecastGrain(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")


class ForecastSnapshot(TenantOwnedModel):
    """The forecast of one owner, team or the tenant (`all`) for one open month or quarter, as it stood when the
    weekly snapshot was taken (KPIS.md). Kept, one per local week: `forecast_accuracy` compares a closed period's
    won amount with the commit of the snapshot taken nearest to the period's start."""

    week_start = models.DateField(
        _("week"), help_text=_("Monday (local) of the week the snapshot belongs to.")
    )
    taken_on = models.DateField(_("taken on"), help_text=_("Local date the snapshot was taken."))
    taken_at = models.DateTimeField(_("taken at"))
    grain = models.CharField(max_length=8, choices=ForecastGrain.choices)
    period_start = models.DateField(_("period start"))
    dimension = models.CharField(max_length=12, choices=Dimension.choices, default=Dimension.ALL)
    dimension_value = models.CharField(max_length=254, blank=True, default="")
    commit = models.DecimalField(_("commit"), max_digits=20, decimal_places=2)
    best_case = models.DecimalField(_("best case"), max_digits=20, decimal_places=2)
    weighted = models.DecimalField(_("weighted"), max_digits=20, decimal_places=2)

    class Meta:
        ordering = ["-week_start", "grain", "period_start", "dimension", "dimension_value"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "week_start", "grain", "period_start", "dimension", "dimension_value"],
                name="sales_ops_fcsnap_week_uniq",
            )
        ]
        indexes = [
            models.Index(
                fields=["tenant", "grain", "period_start", "dimension", "dimension_value"],
                name="sales_ops_fcsnap_period_idx",
            )
        ]

    def __str__(self) -> str:
        return f"Forecast {self.week_start} {self.grain} {self.period_start} {self.dimension}={self.dimension_value}"
