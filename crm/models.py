"""Tenancy core models: Tenant, User, Team, Membership, Invitation, ApiToken."""

from __future__ import annotations

import hashlib
import secrets
import zoneinfo
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.tenancy import TenantOwnedModel

SLUG_VALIDATOR = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$",
    _("Use 1–40 lower-case letters, digits and hyphens; start and end with a letter or digit."),
)
CURRENCY_VALIDATOR = RegexValidator(r"^[A-Z]{3}$", _("Use a three-letter ISO 4217 code such as CNY or EUR."))
RESERVED_SLUGS = {"api", "admin", "static", "t", "signup", "login", "logout", "healthz", "www", "app"}


# The zones the demo tenants and most customers use, named in the reader's language (the pickers and pages show
# "北京时间 (Asia/Shanghai)"); every other zone by its IANA name.
ZONE_NAMES = {
    "Asia/Shanghai": _("Beijing time"),
    "Asia/Hong_Kong": _("Hong Kong time"),
    "Asia/Taipei": _("Taipei time"),
    "Asia/Singapore": _("Singapore time"),
    "Asia/Tokyo": _("Japan time"),
    "Europe/Berlin": _("Central European time (Berlin)"),
    "Europe/London": _("UK time"),
    "America/New_York": _("US Eastern time"),
    "America/Los_Angeles": _("US Pacific time"),
    "UTC": _("Coordinated Universal Time"),
}


def zone_label(zone: str) -> str:
    """ "北京时间 (Asia/Shanghai)" / "Beijing time (Asia/Shanghai)" for a known zone, the IANA name otherwise."""
    name = ZONE_NAMES.get(zone)
    return f"{name} ({zone})" if name is not None else zone


def time_zone_choices() -> list[tuple[str, str]]:
    return [
        (name, zone_label(name))
        for name in sorted(zoneinfo.available_timezones())
        if "/" in name or name == "UTC"
    ]


class Tenant(models.Model):
    """A company using the CRM. Platform table: not tenant-owned itself, so not under RLS."""

    slug = models.SlugField(_("slug"), max_length=40, unique=True, validators=[SLUG_VALIDATOR])
    name = models.CharField(_("company name"), max_length=200)
    currency = models.CharField(
        _("reporting currency"), max_length=3, default="USD", validators=[CURRENCY_VALIDATOR]
    )
    fiscal_year_start_month = models.PositiveSmallIntegerField(
        _("fiscal year start month"), default=1, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    default_locale = models.CharField(_("default language"), max_length=10, default="en")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # The command line and the API bypass the form's choices; an unknown zone would break every page.
        if self.time_zone not in zoneinfo.available_timezones():
            raise ValidationError({"time_zone": _("Unknown time zone.")})

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        if not email:
            raise ValueError("Users need an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Logs in by email; belongs to tenants through memberships."""

    email = models.EmailField(_("email"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []  # type: ignore[misc]  # email is the username: nothing else is required

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def display_name(self) -> str:
        return self.full_name or self.email.split("@")[0]


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    SALES_REP = "sales_rep", _("Sales rep")
    OPS = "ops", _("Sales/marketing ops")
    CS = "cs", _("Customer success")


class Team(TenantOwnedModel):
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="crm_team_tenant_name_uniq")]

    def __str__(self) -> str:
        return self.name


class MembershipStatus(models.TextChoices):
    INVITED = "invited", _("Invited")
    ACTIVE = "active", _("Active")
    DEACTIVATED = "deactivated", _("Deactivated")


class Membership(TenantOwnedModel):
    """A user's place in a tenant: role, team and status. Only `active` memberships open the tenant.

    RLS also shows a user their own memberships in other tenants (the tenant switcher).
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.SALES_REP)
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="members")
    status = models.CharField(
        _("status"), max_length=12, choices=MembershipStatus.choices, default=MembershipStatus.ACTIVE
    )

    class Meta:
        ordering = ["user__email"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="crm_membership_tenant_user_uniq")
        ]
        indexes = [models.Index(fields=["user", "tenant"], name="crm_membership_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"

    @property
    def is_active(self) -> bool:
        return self.status == MembershipStatus.ACTIVE

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def shown_name(self) -> str:
        """The person's name as this tenant may see it: nothing until they accepted the invitation. An invited
        email may belong to someone who already uses the product in another company; inviting them must not
        reveal the name they gave there (the answer is the same for every email)."""
        return "" if self.status == MembershipStatus.INVITED else self.user.full_name


def _invitation_expiry() -> datetime:
    return timezone.now() + timedelta(days=14)


def _invitation_token() -> str:
    return secrets.token_urlsafe(32)


class Invitation(TenantOwnedModel):
    """The link that activates an invited membership."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="invitations")
    token = models.CharField(max_length=64, unique=True, default=_invitation_token, editable=False)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    expires_at = models.DateTimeField(default=_invitation_expiry)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "membership"], name="crm_invite_tenant_member_idx")]

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """An API token of one membership. Platform table (not under RLS): the token must be looked up before the
    tenant is known, exactly like a password hash; it stores only the SHA-256 of the key.

    `name` says which device or script holds it (the tokens page lists them); a token stops working at
    `expires_at` (settings.API_TOKEN_DAYS after creation unless chosen otherwise); `last_used_at` is written at
    most once per settings.API_TOKEN_LAST_USED_SECONDS (crm.middleware), not on every request."""

    key_hash = models.CharField(max_length=64, unique=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(null=True, blank=True)

    RLS_EXEMPT = True

    class Meta:
        indexes = [models.Index(fields=["tenant", "user"], name="crm_apitoken_tenant_user_idx")]

    def __str__(self) -> str:
        return f"token of {self.user_id} for tenant {self.tenant_id}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class ValueListKey(models.TextChoices):
    """The company's editable value lists (crm.value_lists)."""

    CHANNEL = "channel", _("Campaign channel")
    INDUSTRY = "industry", _("Industry")
    SIZE_BAND = "size_band", _("Company size")
    REGION = "region", _("Region")
    LOST_REASON = "lost_reason", _("Lost reason")


class ValueListItem(TenantOwnedModel):
    """A value of one of the company's lists: one it added, or its own label or retirement of a built-in value
    (the built-ins themselves live in code, crm.value_lists.BUILT_IN, so a new company has them with no rows).
    A retired value is no longer offered or accepted for new choices; records that have it keep it."""

    list_key = models.CharField(_("list"), max_length=20, choices=ValueListKey.choices)
    value = models.CharField(_("value"), max_length=100)
    # Empty: the built-in's translated label, or the value itself.
    label = models.CharField(_("label"), max_length=200, blank=True)
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)

    class Meta:
        ordering = ["list_key", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "list_key", "value"], name="crm_valuelistitem_tenant_list_value_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.list_key}: {self.value}"


class OutboxMessage(TenantOwnedModel):
    """A tenant task that could not be handed to the broker (Redis down), kept until the relay delivers it
    (crm.outbox). Tenant-owned and under row-level security like every table that names a tenant: the task's
    arguments are the tenant's ids. `key` is a digest of the task and its arguments: one row per distinct call,
    however many writes asked for it during the outage (the tasks are idempotent, a second run would only repeat
    the work). `not_before` keeps the call's countdown."""

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    key = models.CharField(max_length=64)
    not_before = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="crm_outboxmessage_tenant_key_uniq")
        ]
        indexes = [models.Index(fields=["tenant", "id"], name="crm_outbox_tenant_id_idx")]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)}"


class SearchEntry(TenantOwnedModel):
    """The global search's index (issue 12; crm/search.py, docs/scaling.md "Global search"): one row per live
    lead, account, contact and deal with its lower-cased searchable text (name, company, email, phone and its
    digits; a deal's name and its account's name and domain) and its owner (0 for nobody). PostgreSQL triggers keep it (crm
    migration 0007, the triggers in leads and accounts): nothing in Python writes it.

    Row-level security binds it like every tenant table. The app reads it only through the SECURITY DEFINER
    function crm_search_ids(), owned by the table owner, which takes the tenant from `app.tenant_id` alone and
    returns record ids: there the trigram and array indexes can serve the match (under the tenant policy they
    cannot: LIKE is not LEAKPROOF). The caller then loads those ids through the kind's visibility queryset.

    `grams` holds the CJK characters and the pairs of adjacent ones: a one- or two-character Chinese term has no
    trigram to look for."""

    kind = models.CharField(max_length=16)
    record_id = models.BigIntegerField()
    owner_id = models.BigIntegerField(default=0)  # 0: nobody (an index key, unlike NULL: the lead pool)
    text = models.TextField(default="")
    grams = ArrayField(models.TextField(), default=list)

    class Meta:
        db_table = "crm_search_entry"
        constraints = [
            models.UniqueConstraint(fields=["kind", "record_id"], name="crm_search_entry_record_uniq")
        ]
        indexes = [
            GinIndex(
                F("tenant"),
                F("kind"),
                F("owner_id"),
                OpClass(F("text"), name="gin_trgm_ops"),
                name="crm_search_text_trgm",
            ),
            GinIndex(F("tenant"), F("kind"), F("owner_id"), F("grams"), name="crm_search_grams"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.record_id}"
