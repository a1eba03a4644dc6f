"""The sales workspace: accounts, contacts, pipelines and stages, opportunities, activities, money."""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.names import person_name
from crm.tenancy import TenantOwnedModel

PROBABILITY_VALIDATORS = [MinValueValidator(0), MaxValueValidator(1)]


class SizeBand(models.TextChoices):
    """Company size by head count (accounts and leads)."""

    XS = "1-10", "1–10"
    S = "11-50", "11–50"
    M = "51-200", "51–200"
    L = "201-1000", "201–1000"
    XL = "1001-5000", "1001–5000"
    XXL = "5000+", "5000+"


class Tier(models.TextChoices):
    KEY = "key", _("Key")
    STRATEGIC = "strategic", _("Strategic")
    STANDARD = "standard", _("Standard")
    LONG_TAIL = "long_tail", _("Long tail")


class LifecycleStageName(models.TextChoices):
    ACQUISITION = "acquisition", _("Acquisition")
    CONVERSION = "conversion", _("Conversion")
    RETENTION = "retention", _("Retention")
    CHURN = "churn", _("Churn")


@pghistory.track(
    pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), exclude=["search_text"]
)
class Account(TenantOwnedModel):
    # Not a column: the selectors and views set it on fetched rows for the templates and the API.
    can_edit: bool
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    name = models.CharField(_("name"), max_length=200)
    domain = models.CharField(_("domain"), max_length=200, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    # A value of the company's size band list (crm.value_lists; the built-ins are SizeBand's values).
    size_band = models.CharField(_("company size"), max_length=100, blank=True)
    region = models.CharField(_("region"), max_length=100, blank=True)
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, default=Tier.STANDARD)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    parent = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children"
    )
    # Kept by the lifecycle app (KPIS.md rules); "acquisition" until then.
    lifecycle_stage = models.CharField(
        _("lifecycle stage"),
        max_length=12,
        choices=LifecycleStageName.choices,
        default=LifecycleStageName.ACQUISITION,
    )
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    search_text = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"],
                condition=~Q(external_id=""),
                name="accounts_acct_tenant_ext_uniq",
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "name", "id"], name="accounts_acct_tenant_name_idx"),
            models.Index(fields=["tenant", "owner", "name"], name="accounts_acct_owner_idx"),
            models.Index(fields=["tenant", "tier"], name="accounts_acct_tier_idx"),
            # Live accounts by stage, with what the visibility rules read (owner, id): the lifecycle page's counts
            # and the cs role's visible set are index-only scans.
            models.Index(
                fields=["tenant", "lifecycle_stage", "owner", "id"],
                condition=models.Q(deleted_at=None),
                name="accounts_acct_stage_live_idx",
            ),
            models.Index(fields=["tenant", "parent"], name="accounts_acct_parent_idx"),
            models.Index(fields=["tenant", "domain"], name="accounts_acct_domain_idx"),
            # No trigram index on search_text: row-level security keeps PostgreSQL from using one for LIKE
            # (docs/scaling.md); the global search reads crm_search_entry instead (accounts 0012).
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="accounts_acct_name_trgm"),
            # Records area: list sorts and filters at a million rows (keyset pagination walks these).
            models.Index(fields=["tenant", "created_at", "id"], name="accounts_acct_created_idx"),
            models.Index(fields=["tenant", "industry", "name", "id"], name="accounts_acct_industry_idx"),
            models.Index(fields=["tenant", "region", "name", "id"], name="accounts_acct_region_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class AccountAccess(models.TextChoices):
    READ = "read", _("Read only")
    EDIT = "edit", _("Can edit")


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class AccountMember(TenantOwnedModel):
    """People who work on an account besides its owner (account team); `read` shares it read-only."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="account_members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    access = models.CharField(
        _("access"), max_length=4, choices=AccountAccess.choices, default=AccountAccess.EDIT
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "account", "user"], name="accounts_acctmember_uniq")
        ]
        indexes = [models.Index(fields=["tenant", "user"], name="accounts_acctmember_user_idx")]


@pghistory.track(
    pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), exclude=["search_text"]
)
class Contact(TenantOwnedModel):
    # Not a column: the selectors and views set it on fetched rows for the templates and the API.
    can_edit: bool
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    account = models.ForeignKey(
        Account, on_delete=models.SET_NULL, null=True, blank=True, related_name="contacts"
    )
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    title = models.CharField(_("title"), max_length=120, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    search_text = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"],
                condition=~Q(external_id=""),
                name="accounts_contact_tenant_ext_uniq",
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "account"], name="accounts_contact_account_idx"),
            models.Index(fields=["tenant", "email"], name="accounts_contact_email_idx"),
            models.Index(fields=["tenant", "phone"], name="accounts_contact_phone_idx"),
            models.Index(fields=["tenant", "owner"], name="accounts_contact_owner_idx"),
            # No trigram index on search_text, as for accounts (accounts 0012).
            # Records area: the contact list's sorts (keyset pagination).
            models.Index(
                fields=["tenant", "last_name", "first_name", "id"], name="accounts_contact_name_idx"
            ),
            models.Index(fields=["tenant", "created_at", "id"], name="accounts_contact_created_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def full_name(self) -> str:
        return person_name(self.first_name, self.last_name)


class Pipeline(TenantOwnedModel):
    name = models.CharField(_("name"), max_length=100)
    is_default = models.BooleanField(_("default"), default=False)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="accounts_pipeline_tenant_name_uniq"),
            models.UniqueConstraint(
                fields=["tenant"], condition=Q(is_default=True), name="accounts_pipeline_one_default"
            ),
        ]

    def __str__(self) -> str:
        return str(self.label)

    @property
    def label(self) -> str:
        """The built-in pipelines' names (Sales, and the Renewals pipeline the demo and lifecycle use) in the
        reader's language; any other as typed."""
        return str(DEFAULT_PIPELINE_LABELS.get(self.name, self.name))


class StageKind(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class Stage(TenantOwnedModel):
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveIntegerField(_("order"), default=0)
    probability = models.DecimalField(
        _("default probability"), max_digits=4, decimal_places=3, validators=PROBABILITY_VALIDATORS
    )
    kind = models.CharField(_("kind"), max_length=4, choices=StageKind.choices, default=StageKind.OPEN)

    class Meta:
        ordering = ["pipeline", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "pipeline", "name"], name="accounts_stage_pipeline_name_uniq"
            )
        ]

    def __str__(self) -> str:
        return str(self.label)

    @property
    def label(self) -> str:
        """The name to show: the default pipeline's stage names in the reader's language, any other as typed."""
        return str(DEFAULT_STAGE_LABELS.get(self.name, self.name))


# The stages every tenant starts with are stored in English (the names are a contract); pages translate them.
DEFAULT_STAGE_LABELS = {
    "Qualification": pgettext_lazy("deal stage", "Qualification"),
    "Needs analysis": pgettext_lazy("deal stage", "Needs analysis"),
    "Proposal": pgettext_lazy("deal stage", "Proposal"),
    "Negotiation": pgettext_lazy("deal stage", "Negotiation"),
    "Closed won": pgettext_lazy("deal stage", "Closed won"),
    "Closed lost": pgettext_lazy("deal stage", "Closed lost"),
    # The Renewals pipeline's stages (accounts/demo/opportunities.py RENEWAL_STAGES).
    "Renewal due": pgettext_lazy("deal stage", "Renewal due"),
    "Renewal quote": pgettext_lazy("deal stage", "Renewal quote"),
    "Contract sent": pgettext_lazy("deal stage", "Contract sent"),
    "Renewed": pgettext_lazy("deal stage", "Renewed"),
    "Churned": pgettext_lazy("deal stage", "Churned"),
}

DEFAULT_PIPELINE_LABELS = {
    "Sales": pgettext_lazy("pipeline", "Sales"),
    "Renewals": pgettext_lazy("pipeline", "Renewals"),
}


class OpportunityType(models.TextChoices):
    NEW_BUSINESS = "new_business", _("New business")
    RENEWAL = "renewal", _("Renewal")
    EXPANSION = "expansion", _("Expansion")


class ForecastCategory(models.TextChoices):
    PIPELINE = "pipeline", pgettext_lazy("forecast category", "Pipeline")
    BEST_CASE = "best_case", _("Best case")
    COMMIT = "commit", _("Commit")
    CLOSED = "closed", pgettext_lazy("forecast category", "Closed")
    OMITTED = "omitted", _("Omitted")


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Opportunity(TenantOwnedModel):
    # Not a column: the selectors and views set it on fetched rows for the templates and the API.
    can_edit: bool
    # Not a column: the board's cards (accounts.selectors.opportunity_board).
    days_in_stage: int | None
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="opportunities")
    lead = models.ForeignKey(
        "leads.Lead",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="opportunities",
        help_text=_("The lead this deal originated from."),
    )
    # The originating lead's source and campaign, copied when the deal is created from the lead (conversion,
    # import with lead_external_id): the deal keeps its attribution if the lead is later edited or deleted.
    source = models.ForeignKey(
        "leads.LeadSource",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="opportunities",
        db_index=False,
        help_text=_("The lead source of the lead this deal originated from."),
    )
    campaign = models.ForeignKey(
        "leads.Campaign",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="opportunities",
        db_index=False,
        help_text=_("The campaign of the lead this deal originated from."),
    )
    name = models.CharField(_("name"), max_length=200)
    type = models.CharField(
        _("type"), max_length=12, choices=OpportunityType.choices, default=OpportunityType.NEW_BUSINESS
    )
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2, default=0)
    currency = models.CharField(_("currency"), max_length=3)
    # amount in the tenant's reporting currency (rate at close date; open deals: latest rate), kept by services.
    amount_reporting = models.DecimalField(max_digits=18, decimal_places=2, default=0, editable=False)
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="opportunities")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="opportunities")
    probability = models.DecimalField(
        _("probability"), max_digits=4, decimal_places=3, validators=PROBABILITY_VALIDATORS
    )
    forecast_category = models.CharField(
        _("forecast category"),
        max_length=10,
        choices=ForecastCategory.choices,
        default=ForecastCategory.PIPELINE,
    )
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    lost_reason = models.CharField(_("lost reason"), max_length=200, blank=True)
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    next_step_date = models.DateField(_("next step date"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "opportunities"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"],
                condition=~Q(external_id=""),
                name="accounts_opp_tenant_ext_uniq",
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"], name="accounts_opp_created_idx"),
            models.Index(fields=["tenant", "pipeline", "stage"], name="accounts_opp_board_idx"),
            models.Index(
                fields=["tenant", "owner", "expected_close_date"], name="accounts_opp_owner_close_idx"
            ),
            models.Index(fields=["tenant", "expected_close_date"], name="accounts_opp_close_idx"),
            models.Index(fields=["tenant", "closed_at"], name="accounts_opp_closed_at_idx"),
            models.Index(fields=["tenant", "account"], name="accounts_opp_account_idx"),
            models.Index(fields=["tenant", "lead"], name="accounts_opp_lead_idx"),
            models.Index(fields=["tenant", "source"], name="accounts_opp_source_idx"),
            models.Index(fields=["tenant", "campaign"], name="accounts_opp_campaign_idx"),
            # The board: the first cards of each column, in card order, without sorting the whole pipeline.
            models.Index(
                F("tenant"),
                F("stage"),
                F("expected_close_date").asc(nulls_last=True),
                F("id").desc(),
                condition=Q(deleted_at__isnull=True),
                name="accounts_opp_stage_cards_idx",
            ),
            # The deal list's other sorts (keyset pagination walks these).
            models.Index(fields=["tenant", "amount_reporting", "id"], name="accounts_opp_amount_idx"),
            models.Index(fields=["tenant", "name", "id"], name="accounts_opp_name_idx"),
            # Account visibility ("owns a deal on it") as an index-only scan of the members' deals.
            models.Index(
                fields=["tenant", "owner", "account"],
                condition=Q(deleted_at__isnull=True),
                name="accounts_opp_owner_acct_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.name


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class OpportunityContact(TenantOwnedModel):
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="contact_roles")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="opportunity_roles")
    role = models.CharField(_("role"), max_length=100, blank=True)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "opportunity", "contact"], name="accounts_oppcontact_uniq"
            )
        ]


class StageChange(TenantOwnedModel):
    """Every stage move of a deal, with time and actor."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(Stage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    to_stage = models.ForeignKey(Stage, on_delete=models.SET_NULL, null=True, related_name="+")
    changed_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    amount = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    probability = models.DecimalField(max_digits=4, decimal_places=3, null=True, blank=True)

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [
            models.Index(fields=["tenant", "opportunity", "changed_at"], name="accounts_stagechange_opp_idx")
        ]


class ActivityKind(models.TextChoices):
    CALL = "call", _("Call")
    EMAIL = "email", pgettext_lazy("activity kind", "Email")
    MEETING = "meeting", _("Meeting")
    NOTE = "note", _("Note")
    TASK = "task", _("Task")


class CallOutcome(models.TextChoices):
    CONNECTED = "connected", _("connected")
    NO_ANSWER = "no_answer", _("no answer")
    LEFT_VOICEMAIL = "left_voicemail", _("left voicemail")
    WRONG_NUMBER = "wrong_number", _("wrong number")


MAX_CALL_MINUTES = 24 * 60


@pghistory.track(
    # Inserts are recorded by one statement-level trigger: an import's set insert writes its events at once.
    pghistory.InsertEvent(level=pghistory.Statement),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
)
class Activity(TenantOwnedModel):
    """A call, email, meeting, note or task. It counts (KPIS.md) when done, at `occurred_at`."""

    # The tenant's own index is left out: every index of the table but the foreign keys' starts with the tenant,
    # and serves what it would (a tenant's activities; the database's check when a tenant goes).
    tenant = models.ForeignKey(
        "crm.Tenant", on_delete=models.PROTECT, related_name="+", editable=False, db_index=False
    )
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=8, choices=ActivityKind.choices)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("notes"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    occurred_at = models.DateTimeField(_("occurred at"), null=True, blank=True)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    done = models.BooleanField(_("done"), default=False)
    # Calls only (the services clear them on other kinds).
    outcome = models.CharField(_("outcome"), max_length=16, choices=CallOutcome.choices, blank=True)
    duration_minutes = models.PositiveIntegerField(
        _("duration (minutes)"), null=True, blank=True, validators=[MaxValueValidator(MAX_CALL_MINUTES)]
    )
    lead = models.ForeignKey(
        "leads.Lead", on_delete=models.CASCADE, null=True, blank=True, related_name="activities"
    )
    # These three are empty on a lead's activities (most of an import): their own indexes are partial (Meta).
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, null=True, blank=True, related_name="activities", db_index=False
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="activities", db_index=False
    )
    opportunity = models.ForeignKey(
        Opportunity,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="activities",
        db_index=False,
    )
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "activities"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"],
                condition=~Q(external_id=""),
                name="accounts_activity_tenant_ext_uniq",
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__isnull=True) | Q(duration_minutes__lte=MAX_CALL_MINUTES),
                name="accounts_activity_duration_range",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "owner", "done", "due_at"], name="accounts_activity_tasks_idx"),
            models.Index(fields=["tenant", "kind", "occurred_at"], name="accounts_activity_kind_idx"),
            # The timelines of a lead, an account, a contact and a deal, without the activities that are on none
            # (`lead_id = x` implies the condition): an activity is on one or two of them, and an index entry it
            # does not need costs its insert as much as one it does (bench/README).
            *(
                models.Index(
                    fields=["tenant", name, "-occurred_at"],
                    condition=Q(**{f"{name}__isnull": False}),
                    name=f"accounts_activity_{short}_idx",
                )
                for name, short in (
                    ("lead", "lead"),
                    ("account", "account"),
                    ("contact", "contact"),
                    ("opportunity", "opp"),
                )
            ),
            # Account visibility ("logged an activity on it") as an index-only scan of the members' activities.
            models.Index(fields=["tenant", "owner", "account"], name="accounts_act_owner_acct_idx"),
            # The foreign keys' own indexes (a deleted account's, contact's or deal's activities, and the
            # database's check that none is left), without the empty ones: `account_id = x` implies the condition,
            # and an activity with none of the three (a lead's) writes nothing here (10 µs of the 52 its insert
            # cost; bench/README.md "Imports").
            *(
                models.Index(
                    fields=[name], condition=Q(**{f"{name}__isnull": False}), name=f"accounts_act_{name}_fk"
                )
                for name in ("account", "contact", "opportunity")
            ),
        ]

    def __str__(self) -> str:
        return self.subject


class ExchangeRate(TenantOwnedModel):
    """1 unit of `currency` = `rate` units of the tenant's reporting currency, from `valid_from` on."""

    currency = models.CharField(_("currency"), max_length=3)
    valid_from = models.DateField(_("valid from"))
    rate = models.DecimalField(_("rate"), max_digits=18, decimal_places=8, validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["currency", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "currency", "valid_from"], name="accounts_rate_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.valid_from}: {self.rate}"


class MergeEntity(models.TextChoices):
    LEAD = "lead", _("Lead")
    ACCOUNT = "account", _("Account")
    CONTACT = "contact", _("Contact")


class MergeRecord(TenantOwnedModel):
    """A merge of `merged_id` into `survivor_id`, with what is needed to undo it."""

    entity = models.CharField(max_length=8, choices=MergeEntity.choices)
    survivor_id = models.BigIntegerField()
    merged_id = models.BigIntegerField()
    snapshot = models.JSONField(
        default=dict, help_text="Field values of both records and the moved relations."
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["tenant", "entity", "survivor_id"], name="accounts_merge_survivor_idx")
        ]

    @property
    def merged_name(self) -> str:
        """The merged person's name as it was (leads and contacts)."""
        merged = self.snapshot.get("merged") or {}
        return person_name(merged.get("first_name", ""), merged.get("last_name", ""))
