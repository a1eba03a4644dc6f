"""Acquisition: lead sources, campaigns, leads, scoring rules, territories (assignment) and the lead pool."""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from accounts.models import SizeBand as SizeBand  # the built-in size bands, re-exported for the leads app
from crm.names import person_name
from crm.tenancy import TenantOwnedModel


class SourceKind(models.TextChoices):
    INBOUND = "inbound", _("Inbound (own need)")
    INCENTIVE = "incentive", _("Incentive (reward or content)")


class LeadSource(TenantOwnedModel):
    """Where leads come from. `kind` separates quality (inbound) from quantity (incentive)."""

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=10, choices=SourceKind.choices, default=SourceKind.INBOUND)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="leads_source_tenant_name_uniq")
        ]

    def __str__(self) -> str:
        return self.name


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    EVENT = "event", _("Event / trade show")
    WEBINAR = "webinar", _("Webinar")
    PAID_SEARCH = "paid_search", _("Paid search")
    SOCIAL = "social", _("Social")
    CONTENT = "content", _("Content")
    REFERRAL = "referral", _("Referral")
    PARTNER = "partner", _("Partner")
    OTHER = "other", _("Other")


class Campaign(TenantOwnedModel):
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    name = models.CharField(_("name"), max_length=200)
    # A value of the company's channel list (crm.value_lists; the built-ins are Channel's values).
    channel = models.CharField(_("channel"), max_length=100, default=Channel.OTHER)
    source_kind = models.CharField(_("source kind"), max_length=10, choices=SourceKind.choices, blank=True)
    source = models.ForeignKey(
        LeadSource, on_delete=models.SET_NULL, null=True, blank=True, related_name="campaigns"
    )
    cost = models.DecimalField(_("cost"), max_digits=18, decimal_places=2, default=0)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-start_date", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"],
                condition=~Q(external_id=""),
                name="leads_campaign_tenant_ext_uniq",
            ),
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="leads_campaign_dates_check"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "start_date"], name="leads_campaign_start_idx")]

    def __str__(self) -> str:
        return self.name

    def get_channel_display(self) -> str:
        """The channel's label: a built-in's translated one, else the value (a channel the company added)."""
        return str(dict(Channel.choices).get(self.channel, self.channel))


class LeadStatus(models.TextChoices):
    NEW = "new", _("New")
    WORKING = "working", _("Working")
    MQL = "mql", _("MQL")
    SQL = "sql", _("SQL")
    CONVERTED = "converted", _("Converted")
    DISQUALIFIED = "disqualified", _("Disqualified")


# The statuses of a lead still being worked (the pool and the claim cap count only these).
OPEN_LEAD_STATUSES = [LeadStatus.NEW, LeadStatus.WORKING, LeadStatus.MQL, LeadStatus.SQL]


class Territory(TenantOwnedModel):
    """Assignment: a lead matching the criteria (empty list = any) goes round-robin to the members."""

    name = models.CharField(_("name"), max_length=120)
    priority = models.PositiveIntegerField(
        _("priority"), default=100, help_text=_("Lower numbers are tried first.")
    )
    regions = ArrayField(
        models.CharField(max_length=100), default=list, blank=True, verbose_name=_("regions")
    )
    industries = ArrayField(
        models.CharField(max_length=100), default=list, blank=True, verbose_name=_("industries")
    )
    size_bands = ArrayField(
        models.CharField(max_length=20), default=list, blank=True, verbose_name=_("size bands")
    )
    is_active = models.BooleanField(_("active"), default=True)
    rr_position = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["priority", "name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="leads_territory_tenant_name_uniq")
        ]

    def __str__(self) -> str:
        return self.name


class TerritoryMember(TenantOwnedModel):
    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="territory_members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["territory", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "territory", "user"], name="leads_terr_member_uniq")
        ]


@pghistory.track(
    # Inserts are recorded by one statement-level trigger: an import's set insert writes its events at once.
    pghistory.InsertEvent(level=pghistory.Statement),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["search_text", "phone_tail", "company_key"],
)
class Lead(TenantOwnedModel):
    # Not a column: the selectors and views set it on fetched rows for the templates and the API.
    can_edit: bool
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    title = models.CharField(_("title"), max_length=120, blank=True)
    region = models.CharField(_("region"), max_length=100, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    # A value of the company's size band list (crm.value_lists; the built-ins are SizeBand's values).
    size_band = models.CharField(_("company size"), max_length=100, blank=True)
    source = models.ForeignKey(
        LeadSource, on_delete=models.SET_NULL, null=True, blank=True, related_name="leads"
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="leads"
    )
    status = models.CharField(_("status"), max_length=12, choices=LeadStatus.choices, default=LeadStatus.NEW)
    score = models.IntegerField(_("score"), default=0)
    score_reasons = models.JSONField(default=list, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: the lead is in the public pool."),
    )
    territory = models.ForeignKey(
        Territory, on_delete=models.SET_NULL, null=True, blank=True, related_name="leads"
    )
    disqualify_reason = models.CharField(_("disqualify reason"), max_length=200, blank=True)
    # Status timestamps (KPIS.md): a lead "reached" a status if it has that timestamp or a later one.
    working_at = models.DateTimeField(null=True, blank=True)
    mql_at = models.DateTimeField(null=True, blank=True)
    sql_at = models.DateTimeField(null=True, blank=True)
    converted_at = models.DateTimeField(null=True, blank=True)
    disqualified_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    pooled_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the lead last returned to the pool.")
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    # When the current owner got the lead (assignment, claim, rules); the pool clock starts here at the latest.
    assigned_at = models.DateTimeField(null=True, blank=True)
    converted_account = models.ForeignKey(
        "accounts.Account", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    converted_contact = models.ForeignKey(
        "accounts.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    converted_opportunity = models.ForeignKey(
        "accounts.Opportunity", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    # Lower-cased name, company, email and phone, kept by the services, behind a trigram index for search.
    search_text = models.TextField(blank=True, default="")
    # Duplicate keys, kept by the services with search_text: the last seven digits of the phone (one number with
    # or without its country code shares them) and the company name normalized for comparison (legal forms
    # dropped, upper-cased; C collation, so a prefix is a plain index range). Equality and ranges on them are
    # leakproof, so PostgreSQL uses their indexes under row-level security, which pg_trgm's `%` and LIKE are not.
    phone_tail = models.CharField(max_length=7, blank=True, default="", db_default="", editable=False)
    company_key = models.CharField(
        max_length=200, blank=True, default="", db_default="", editable=False, db_collation="C"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"],
                condition=~Q(external_id=""),
                name="leads_lead_tenant_ext_uniq",
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"], name="leads_lead_tenant_created_idx"),
            models.Index(
                fields=["tenant", "owner", "status", "-created_at"], name="leads_lead_owner_status_idx"
            ),
            models.Index(fields=["tenant", "status", "-created_at"], name="leads_lead_status_idx"),
            models.Index(fields=["tenant", "source", "-created_at"], name="leads_lead_source_idx"),
            models.Index(fields=["tenant", "campaign", "-created_at"], name="leads_lead_campaign_idx"),
            models.Index(fields=["tenant", "-score", "-id"], name="leads_lead_score_idx"),
            models.Index(fields=["tenant", "email"], name="leads_lead_email_idx"),
            models.Index(fields=["tenant", "phone_tail"], name="leads_lead_phone_tail_idx"),
            models.Index(fields=["tenant", "company_key"], name="leads_lead_company_key_idx"),
            models.Index(fields=["tenant", "owner", "last_activity_at"], name="leads_lead_pool_idx"),
            # Keyset pagination of the inbox: one index per sort key (and the rep's "my leads" view).
            models.Index(
                fields=["tenant", "owner", "-created_at", "-id"], name="leads_lead_owner_created_idx"
            ),
            models.Index(
                F("tenant"),
                F("last_activity_at").desc(nulls_last=True),
                F("id").desc(),
                name="leads_lead_activity_sort_idx",
            ),
            models.Index(fields=["tenant", "company", "id"], name="leads_lead_company_sort_idx"),
            # The public pool (open leads nobody owns): its list in keyset order and, with pooled_at included,
            # the pool health aggregates as index-only scans.
            models.Index(
                fields=["tenant", "created_at", "id"],
                include=["pooled_at"],
                condition=Q(owner__isnull=True, status__in=OPEN_LEAD_STATUSES, deleted_at__isnull=True),
                name="leads_lead_pool_open_idx",
            ),
            # Open leads claimed from the pool, per owner (the claim cap and the pool health's per-rep figures).
            models.Index(
                fields=["tenant", "owner"],
                include=["id"],
                condition=Q(claimed_at__isnull=False, status__in=OPEN_LEAD_STATUSES, deleted_at__isnull=True),
                name="leads_lead_claimed_open_idx",
            ),
            # No trigram index on search_text: under row-level security PostgreSQL cannot use one for LIKE (the
            # operator is not leakproof; docs/scaling.md), so it only slowed every insert (leads 0014). The global
            # search reads crm_search_entry through crm_search_ids(). What still matches search_text with LIKE (the
            # inbox's `q`, a phone number in the global search) reads this narrow copy of the live leads'
            # search_text instead of the heap (an index-only scan of ~140 MB instead of ~1.1 GB at a million
            # leads), by owner for the reps' and managers' visibility.
            models.Index(
                fields=["tenant", "owner"],
                include=["id", "status", "search_text"],
                condition=Q(deleted_at__isnull=True),
                name="leads_lead_search_cover_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or self.company

    @property
    def full_name(self) -> str:
        return person_name(self.first_name, self.last_name)


class ScoringCategory(models.TextChoices):
    FIT = "fit", _("Fit")
    ENGAGEMENT = "engagement", _("Engagement")


class ScoringField(models.TextChoices):
    INDUSTRY = "industry", _("Industry")
    SIZE_BAND = "size_band", _("Company size")
    REGION = "region", _("Region")
    TITLE = "title", _("Title contains")
    SOURCE_KIND = "source_kind", _("Source kind")
    RECENT_ACTIVITIES = "recent_activities", _("Activities in the last 30 days (at least)")


class ScoringRule(TenantOwnedModel):
    """One rule: when `field` matches `value`, add `points` (negative points subtract)."""

    category = models.CharField(_("category"), max_length=12, choices=ScoringCategory.choices)
    field = models.CharField(_("field"), max_length=20, choices=ScoringField.choices)
    value = models.CharField(_("value"), max_length=200)
    points = models.IntegerField(_("points"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["category", "field", "value"]

    def __str__(self) -> str:
        return f"{self.get_field_display()} {self.value}: {self.points:+d}"


class LeadSettings(TenantOwnedModel):
    """Per-tenant lead settings: the pool window and the per-rep claim cap."""

    pool_window_days = models.PositiveIntegerField(
        _("days without activity before a lead returns to the pool"), default=30
    )
    pool_claim_cap = models.PositiveIntegerField(_("open pool claims per rep"), default=20)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="leads_settings_tenant_uniq")]


class PoolEventKind(models.TextChoices):
    RETURNED = "returned", _("Returned to the pool")
    CLAIMED = "claimed", _("Claimed from the pool")


class LeadPoolEvent(TenantOwnedModel):
    """One move of a lead into or out of the public pool, for the pool health figures (returns and claims per
    week, claims per rep). `user` is the rep who lost the lead (returned) or took it (claimed)."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="pool_events")
    kind = models.CharField(max_length=8, choices=PoolEventKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()
    idle_days = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "kind", "at"], name="leads_poolevent_kind_at_idx"),
            models.Index(fields=["tenant", "lead"], name="leads_poolevent_lead_idx"),
        ]
