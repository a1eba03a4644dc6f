"""Writes of the ops area: lead sources, campaigns, territories (assignment), scoring rules and scoring.

Two functions are called by the leads area on every lead write:
- `lead_assign_by_rules(tenant=, lead=)`: territory match + round-robin owner (a manual owner wins);
- `lead_rescore(tenant=, lead=)`: score and reasons of one lead from the active scoring rules.
`leads_rescore_all(tenant=)` recomputes every lead of the tenant in one set-based UPDATE (the Celery task
`leads.tasks_ops.rescore_leads` runs it after a rule changes).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.models import Membership, MembershipStatus, Role, Tenant, User
from leads.models import (
    Campaign,
    Channel,
    Lead,
    LeadSource,
    LeadStatus,
    ScoringCategory,
    ScoringField,
    ScoringRule,
    SizeBand,
    SourceKind,
    Territory,
    TerritoryMember,
)

# Roles that work leads and may therefore be members of a territory.
ASSIGNABLE_ROLES = (Role.ADMIN, Role.SALES_MANAGER, Role.SALES_REP)
RECENT_ACTIVITY_DAYS = 30
SCORE_MIN, SCORE_MAX = 0, 100
POINTS_LIMIT = 100
FIT_FIELDS = frozenset(
    {ScoringField.INDUSTRY, ScoringField.SIZE_BAND, ScoringField.REGION, ScoringField.TITLE}
)
ENGAGEMENT_FIELDS = frozenset({ScoringField.RECENT_ACTIVITIES, ScoringField.SOURCE_KIND})


def _norm(value: str | None) -> str:
    """Case- and padding-insensitive form of a text criterion (mirrors `lower(btrim(...))` in the SQL below)."""
    return (value or "").strip(" ").lower()


def _clean_list(values: Iterable[str] | None) -> list[str]:
    """Strip, drop empties and case-insensitive duplicates, keep the first spelling and the order."""
    seen: set[str] = set()
    result = []
    for value in values or []:
        value = (value or "").strip()
        if value and value.lower() not in seen:
            seen.add(value.lower())
            result.append(value)
    return result


# ------------------------------------------------------------------------------------------- lead sources


def _validate_source(*, tenant: Tenant, name: str, kind: str, exclude_pk: int | None = None) -> None:
    errors = {}
    if not name:
        errors["name"] = _("Enter a name.")
    elif LeadSource.objects.filter(tenant=tenant, name__iexact=name).exclude(pk=exclude_pk).exists():
        errors["name"] = _("A lead source with this name already exists (it may be deleted: restore it).")
    if kind not in SourceKind.values:
        errors["kind"] = _("Choose inbound or incentive.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def source_create(
    *, tenant: Tenant, actor: User, name: str, kind: str, description: str = "", is_active: bool = True
) -> LeadSource:
    """Create a lead source. Side effects: none."""
    name = (name or "").strip()
    _validate_source(tenant=tenant, name=name, kind=kind)
    return LeadSource.objects.create(
        tenant=tenant, name=name, kind=kind, description=(description or "").strip(), is_active=is_active
    )


@transaction.atomic
def source_update(*, tenant: Tenant, actor: User, source: LeadSource, **fields: object) -> LeadSource:
    """Change name, kind, description or is_active. A new kind is copied to the source's campaigns and, when
    a scoring rule looks at the source kind, every lead is rescored (after commit)."""
    source = LeadSource.objects.select_for_update().get(tenant=tenant, pk=source.pk, deleted_at__isnull=True)
    old_kind = source.kind
    for key in ("name", "kind", "description", "is_active"):
        if key in fields:
            value = fields[key]
            setattr(source, key, value.strip() if isinstance(value, str) else value)
    _validate_source(tenant=tenant, name=source.name, kind=source.kind, exclude_pk=source.pk)
    source.save()
    if source.kind != old_kind:
        Campaign.objects.filter(tenant=tenant, source=source).update(source_kind=source.kind)
        if ScoringRule.objects.filter(tenant=tenant, is_active=True, field=ScoringField.SOURCE_KIND).exists():
            _enqueue_rescore(tenant)
    return source


@transaction.atomic
def source_delete(*, tenant: Tenant, actor: User, source: LeadSource) -> LeadSource:
    """Soft-delete: the source leaves lists and pickers, its leads keep it for history; undo with restore."""
    LeadSource.objects.filter(tenant=tenant, pk=source.pk).update(deleted_at=timezone.now())
    source.refresh_from_db()
    return source


@transaction.atomic
def source_restore(*, tenant: Tenant, actor: User, source: LeadSource) -> LeadSource:
    LeadSource.objects.filter(tenant=tenant, pk=source.pk).update(deleted_at=None)
    source.refresh_from_db()
    return source


# ---------------------------------------------------------------------------------------------- campaigns

CAMPAIGN_FIELDS = (
    "name",
    "external_id",
    "channel",
    "source",
    "source_kind",
    "cost",
    "currency",
    "start_date",
    "end_date",
    "owner",
)


def _active_member_user(tenant: Tenant, user: User | None) -> bool:
    return (
        user is None
        or Membership.objects.filter(tenant=tenant, user=user, status=MembershipStatus.ACTIVE).exists()
    )


def _validate_campaign(tenant: Tenant, campaign: Campaign) -> None:
    errors: dict[str, str] = {}
    if not campaign.name:
        errors["name"] = _("Enter a name.")
    if campaign.channel not in Channel.values:
        errors["channel"] = _("Choose a channel.")
    if campaign.source_id is not None:
        source = LeadSource.objects.filter(
            tenant=tenant, pk=campaign.source_id, deleted_at__isnull=True
        ).first()
        if source is None:
            errors["source"] = _("This lead source does not exist.")
        elif campaign.source_kind and campaign.source_kind != source.kind:
            errors["source_kind"] = _(
                "The source “%(source)s” is %(kind)s; leave the kind empty or match it."
            ) % {
                "source": source.name,
                "kind": source.get_kind_display(),
            }
        else:
            campaign.source_kind = source.kind
    if campaign.source_kind and campaign.source_kind not in SourceKind.values:
        errors["source_kind"] = _("Choose inbound or incentive.")
    if campaign.cost is None or Decimal(campaign.cost) < 0:
        errors["cost"] = _("The cost cannot be negative.")
    if not (len(campaign.currency) == 3 and campaign.currency.isalpha()):
        errors["currency"] = _("Use a three-letter ISO 4217 code such as CNY or EUR.")
    if not campaign.start_date:
        errors["start_date"] = _("Enter a start date.")
    if not campaign.end_date:
        errors["end_date"] = _("Enter an end date.")
    elif campaign.start_date and campaign.end_date < campaign.start_date:
        errors["end_date"] = _("The end date cannot be before the start date.")
    if not _active_member_user(tenant, campaign.owner):
        errors["owner"] = _("Choose an active member of this company.")
    if campaign.external_id:
        clash = Campaign.objects.filter(tenant=tenant, external_id=campaign.external_id).exclude(
            pk=campaign.pk
        )
        if clash.exists():
            errors["external_id"] = _("Another campaign has this external id.")
    if errors:
        raise ValidationError(errors)


def _apply_campaign_fields(tenant: Tenant, campaign: Campaign, fields: dict) -> None:
    for key in CAMPAIGN_FIELDS:
        if key not in fields:
            continue
        value = fields[key]
        if isinstance(value, str):
            value = value.strip()
        if key == "currency":
            value = (value or tenant.currency).upper()
        if key in {"external_id", "source_kind"}:
            value = value or ""
        setattr(campaign, key, value)


@transaction.atomic
def campaign_create(*, tenant: Tenant, actor: User, **fields: object) -> Campaign:
    """Create a campaign (currency defaults to the tenant's; the kind follows the source). Side effects: none."""
    campaign = Campaign(tenant=tenant, currency=tenant.currency)
    _apply_campaign_fields(tenant, campaign, fields)
    _validate_campaign(tenant, campaign)
    campaign.save()
    return campaign


@transaction.atomic
def campaign_update(*, tenant: Tenant, actor: User, campaign: Campaign, **fields: object) -> Campaign:
    """Change any campaign field given; validation as on create."""
    campaign = Campaign.objects.select_for_update().get(
        tenant=tenant, pk=campaign.pk, deleted_at__isnull=True
    )
    _apply_campaign_fields(tenant, campaign, fields)
    _validate_campaign(tenant, campaign)
    campaign.save()
    return campaign


@transaction.atomic
def campaign_delete(*, tenant: Tenant, actor: User, campaign: Campaign) -> Campaign:
    """Soft-delete: hidden from lists and pickers, its leads keep the link; undo with restore."""
    Campaign.objects.filter(tenant=tenant, pk=campaign.pk).update(deleted_at=timezone.now())
    campaign.refresh_from_db()
    return campaign


@transaction.atomic
def campaign_restore(*, tenant: Tenant, actor: User, campaign: Campaign) -> Campaign:
    Campaign.objects.filter(tenant=tenant, pk=campaign.pk).update(deleted_at=None)
    campaign.refresh_from_db()
    return campaign


# --------------------------------------------------------------------------------------------- territories


def territory_matches(territory: Territory, *, region: str, industry: str, size_band: str) -> bool:
    """Every non-empty criterion must match (case-insensitive for regions and industries)."""
    if territory.regions and _norm(region) not in {_norm(r) for r in territory.regions}:
        return False
    if territory.industries and _norm(industry) not in {_norm(i) for i in territory.industries}:
        return False
    if territory.size_bands and (size_band or "") not in set(territory.size_bands):
        return False
    return True


def assignable_user_ids(*, tenant: Tenant) -> set[int]:
    """Users who may be territory members: active members in a selling role."""
    return set(
        Membership.objects.filter(
            tenant=tenant, status=MembershipStatus.ACTIVE, role__in=ASSIGNABLE_ROLES
        ).values_list("user_id", flat=True)
    )


def territory_active_member_ids(*, tenant: Tenant, territory: Territory) -> list[int]:
    """User ids of the territory's members whose membership is active, in round-robin order."""
    active = Membership.objects.filter(
        tenant=tenant, status=MembershipStatus.ACTIVE, role__in=ASSIGNABLE_ROLES
    ).values("user_id")
    return list(
        TerritoryMember.objects.filter(tenant=tenant, territory=territory, user_id__in=active)
        .order_by("position", "id")
        .values_list("user_id", flat=True)
    )


def territory_for(
    *, tenant: Tenant, region: str, industry: str, size_band: str
) -> tuple[Territory | None, list[int]]:
    """The first active territory by priority that matches and has active members, with those members."""
    for territory in Territory.objects.filter(tenant=tenant, is_active=True).order_by(
        "priority", "name", "id"
    ):
        if not territory_matches(territory, region=region, industry=industry, size_band=size_band):
            continue
        member_ids = territory_active_member_ids(tenant=tenant, territory=territory)
        if member_ids:
            return territory, member_ids
    return None, []


@transaction.atomic
def lead_assign_by_rules(*, tenant: Tenant, lead: Lead) -> User | None:
    """Give an unowned lead the territory that matches it and the next member of that territory.

    A lead that already has an owner (a manual assignment) is left alone and its owner returned. Advances the
    territory's round-robin position under a row lock, so concurrent creates spread evenly. Saves owner and
    territory when the lead is already stored; an unsaved lead just gets the attributes (the caller saves).
    Returns the new owner, or None when no territory with active members matches (the lead stays in the pool).
    """
    if lead.owner_id:
        return lead.owner
    territory, _ids = territory_for(
        tenant=tenant, region=lead.region, industry=lead.industry, size_band=lead.size_band
    )
    if territory is None:
        return None
    locked = Territory.objects.select_for_update().get(tenant=tenant, pk=territory.pk)
    # Re-read the members under the lock: an edit of the territory may have committed meanwhile.
    member_ids = territory_active_member_ids(tenant=tenant, territory=locked) or _ids
    index = locked.rr_position % len(member_ids)
    Territory.objects.filter(tenant=tenant, pk=locked.pk).update(rr_position=(index + 1) % len(member_ids))
    owner = User.objects.get(pk=member_ids[index])
    lead.owner = owner
    lead.territory = locked
    if lead.pk:
        Lead.objects.filter(tenant=tenant, pk=lead.pk).update(
            owner=owner, territory=locked, updated_at=timezone.now()
        )
    return owner


def _validate_territory(tenant: Tenant, territory: Territory, member_ids: Sequence[int] | None) -> None:
    errors: dict[str, str] = {}
    if not territory.name:
        errors["name"] = _("Enter a name.")
    elif (
        Territory.objects.filter(tenant=tenant, name__iexact=territory.name).exclude(pk=territory.pk).exists()
    ):
        errors["name"] = _("A territory with this name already exists.")
    bad_bands = [b for b in territory.size_bands if b not in SizeBand.values]
    if bad_bands:
        errors["size_bands"] = _("Unknown company size: %(values)s.") % {"values": ", ".join(bad_bands)}
    if territory.priority is None or int(territory.priority) < 0:
        errors["priority"] = _("The priority must be zero or more.")
    if member_ids is not None:
        unknown = set(member_ids) - assignable_user_ids(tenant=tenant)
        if unknown:
            errors["members"] = _(
                "Members must be active admins, sales managers or sales reps of this company."
            )
    if errors:
        raise ValidationError(errors)


def _set_territory_members(tenant: Tenant, territory: Territory, member_ids: Sequence[int]) -> None:
    ordered = list(dict.fromkeys(int(pk) for pk in member_ids))
    TerritoryMember.objects.filter(tenant=tenant, territory=territory).exclude(user_id__in=ordered).delete()
    existing = {m.user_id: m for m in TerritoryMember.objects.filter(tenant=tenant, territory=territory)}
    changed, created = [], []
    for position, user_id in enumerate(ordered):
        member = existing.get(user_id)
        if member is None:
            created.append(
                TerritoryMember(tenant=tenant, territory=territory, user_id=user_id, position=position)
            )
        elif member.position != position:
            member.position = position
            changed.append(member)
    TerritoryMember.objects.bulk_update(changed, ["position"])
    TerritoryMember.objects.bulk_create(created)


def _apply_territory_fields(territory: Territory, fields: dict) -> None:
    if "name" in fields:
        territory.name = (fields["name"] or "").strip()
    for key in ("regions", "industries", "size_bands"):
        if key in fields:
            setattr(territory, key, _clean_list(fields[key]))
    for key in ("priority", "is_active"):
        if key in fields and fields[key] is not None:
            setattr(territory, key, fields[key])


@transaction.atomic
def territory_create(
    *, tenant: Tenant, actor: User, member_ids: Sequence[int] = (), **fields: object
) -> Territory:
    """Create a territory with its members (round-robin in the given order)."""
    territory = Territory(tenant=tenant)
    _apply_territory_fields(territory, fields)
    _validate_territory(tenant, territory, member_ids)
    try:
        with transaction.atomic():
            territory.save()
    except IntegrityError as exc:
        raise ValidationError({"name": _("A territory with this name already exists.")}) from exc
    _set_territory_members(tenant, territory, member_ids)
    return territory


@transaction.atomic
def territory_update(
    *,
    tenant: Tenant,
    actor: User,
    territory: Territory,
    member_ids: Sequence[int] | None = None,
    **fields: object,
) -> Territory:
    """Change criteria, priority, activity and (when given) the members; locks the row like assignment does."""
    territory = Territory.objects.select_for_update().get(tenant=tenant, pk=territory.pk)
    _apply_territory_fields(territory, fields)
    _validate_territory(tenant, territory, member_ids)
    territory.save()
    if member_ids is not None:
        _set_territory_members(tenant, territory, member_ids)
    return territory


@transaction.atomic
def territory_delete(*, tenant: Tenant, actor: User, territory: Territory) -> None:
    """Delete a territory and its members; its leads keep their owners and lose the territory link."""
    Territory.objects.filter(tenant=tenant, pk=territory.pk).delete()


@transaction.atomic
def territory_move(*, tenant: Tenant, actor: User, territory: Territory, direction: str) -> None:
    """Swap places with the neighbour above ("up") or below ("down"); priorities are renumbered 10, 20, ...
    so the order stays unambiguous."""
    ordered = list(
        Territory.objects.select_for_update().filter(tenant=tenant).order_by("priority", "name", "id")
    )
    index = next((i for i, t in enumerate(ordered) if t.pk == territory.pk), None)
    if index is None:
        raise Territory.DoesNotExist
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    territory_reorder(tenant=tenant, actor=actor, ordered_ids=[t.pk for t in ordered])


@transaction.atomic
def territory_reorder(*, tenant: Tenant, actor: User, ordered_ids: Sequence[int]) -> None:
    """Set priorities 10, 20, ... in the given order; territories not listed keep their relative order after."""
    territories = list(
        Territory.objects.select_for_update().filter(tenant=tenant).order_by("priority", "name", "id")
    )
    by_id = {t.pk: t for t in territories}
    ordered = [by_id[pk] for pk in dict.fromkeys(ordered_ids) if pk in by_id]
    ordered += [t for t in territories if t not in ordered]
    for position, territory in enumerate(ordered, start=1):
        territory.priority = position * 10
    Territory.objects.bulk_update(ordered, ["priority"])


# ------------------------------------------------------------------------------------------------ scoring


@dataclass(frozen=True)
class RuleSpec:
    """A scoring rule as the engine sees it (also used for unsaved drafts in the preview)."""

    field: str
    value: str
    points: int
    text: str

    @property
    def threshold(self) -> int | None:
        return int(self.value) if self.field == ScoringField.RECENT_ACTIVITIES else None


def scoring_rule_text(*, field: str, value: str) -> str:
    """The reason shown on a lead for a matching rule."""
    if field == ScoringField.SOURCE_KIND:
        return _("Source kind: %(value)s") % {"value": dict(SourceKind.choices).get(value, value)}
    if field == ScoringField.TITLE:
        return _("Title contains “%(value)s”") % {"value": value}
    if field == ScoringField.RECENT_ACTIVITIES:
        return _("%(value)s+ activities in the last 30 days") % {"value": value}
    if field == ScoringField.SIZE_BAND:
        return _("Company size: %(value)s") % {"value": dict(SizeBand.choices).get(value, value)}
    if field == ScoringField.REGION:
        return _("Region: %(value)s") % {"value": value}
    return _("Industry: %(value)s") % {"value": value}


def rule_specs(*, tenant: Tenant, rules: Iterable[ScoringRule] | None = None) -> list[RuleSpec]:
    """Active rules in a fixed order, with reason texts in the tenant's language so that every scoring path
    (one lead, all leads, a request in another language, a worker) writes the same reasons."""
    if rules is None:
        rules = ScoringRule.objects.filter(tenant=tenant, is_active=True).order_by(
            "category", "field", "value", "id"
        )
    with translation.override(tenant.default_locale or "en"):
        return [
            RuleSpec(r.field, r.value, r.points, str(scoring_rule_text(field=r.field, value=r.value)))
            for r in rules
        ]


def _recent_since() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=RECENT_ACTIVITY_DAYS)


def _rule_matches(rule: RuleSpec, lead: Lead, *, source_kind: str, recent_activities: int) -> bool:
    field, value = rule.field, rule.value
    if field == ScoringField.INDUSTRY:
        return _norm(lead.industry) == _norm(value)
    if field == ScoringField.REGION:
        return _norm(lead.region) == _norm(value)
    if field == ScoringField.SIZE_BAND:
        return (lead.size_band or "") == value
    if field == ScoringField.TITLE:
        return bool(_norm(value)) and _norm(value) in (lead.title or "").lower()
    if field == ScoringField.SOURCE_KIND:
        return source_kind == value
    if field == ScoringField.RECENT_ACTIVITIES:
        return recent_activities >= (rule.threshold or 0)
    return False


def _clamp(total: int) -> int:
    return max(SCORE_MIN, min(SCORE_MAX, total))


def lead_score_compute(
    *, tenant: Tenant, lead: Lead, rules: list[RuleSpec] | None = None
) -> tuple[int, list]:
    """Score (clamped to 0..100) and reasons [{"rule", "points"}] of one lead, without saving."""
    from accounts.models import Activity

    rules = rule_specs(tenant=tenant) if rules is None else rules
    recent = 0
    if lead.pk and any(r.field == ScoringField.RECENT_ACTIVITIES for r in rules):
        recent = Activity.objects.filter(
            tenant=tenant,
            lead_id=lead.pk,
            done=True,
            deleted_at__isnull=True,
            occurred_at__gte=_recent_since(),
        ).count()
    source_kind = ""
    if lead.source_id and any(r.field == ScoringField.SOURCE_KIND for r in rules) and lead.source is not None:
        source_kind = lead.source.kind
    matched = [r for r in rules if _rule_matches(r, lead, source_kind=source_kind, recent_activities=recent)]
    reasons = [{"rule": r.text, "points": r.points} for r in matched]
    return _clamp(sum(r.points for r in matched)), reasons


@transaction.atomic
def lead_rescore(*, tenant: Tenant, lead: Lead) -> Lead:
    """Recompute and store `score` and `score_reasons` of one lead (no version bump: the score is derived)."""
    score, reasons = lead_score_compute(tenant=tenant, lead=lead)
    lead.score, lead.score_reasons = score, reasons
    if lead.pk:
        Lead.objects.filter(tenant=tenant, pk=lead.pk).update(score=score, score_reasons=reasons)
    return lead


def _scores_cte(*, tenant: Tenant, rules: Sequence[RuleSpec]) -> tuple[str, list]:
    """`WITH ... scores(lead_id, score, reasons)` for every lead of the tenant: the same matching as
    `_rule_matches`, as one join of leads x rules, summed and aggregated in SQL. The CTEs are MATERIALIZED:
    inlined, a planner without fresh statistics (rows just bulk-inserted) nests the whole aggregate under
    every updated row, which is quadratic."""
    if rules:
        rows = ", ".join(["(%s::int, %s::text, %s::text, %s::int, %s::int, %s::text)"] * len(rules))
        rules_sql = f"SELECT * FROM (VALUES {rows}) AS v(ord, field, value, threshold, points, text)"
        params: list = []
        for ord_, r in enumerate(rules):
            params += [ord_, r.field, r.value, r.threshold, r.points, r.text]
    else:
        rules_sql = (
            "SELECT NULL::int AS ord, NULL::text AS field, NULL::text AS value, NULL::int AS threshold, "
            "NULL::int AS points, NULL::text AS text WHERE false"
        )
        params = []
    sql = f"""
    WITH rules AS ({rules_sql}),
    recent AS MATERIALIZED (
        SELECT lead_id, count(*) AS n FROM accounts_activity
        WHERE tenant_id = %s AND lead_id IS NOT NULL AND done AND deleted_at IS NULL AND occurred_at >= %s
        GROUP BY lead_id
    ),
    matched AS MATERIALIZED (
        SELECT l.id AS lead_id, r.ord, r.points, r.text
        FROM leads_lead l
        LEFT JOIN leads_leadsource s ON s.id = l.source_id
        LEFT JOIN recent a ON a.lead_id = l.id
        JOIN rules r ON (
            (r.field = 'industry' AND lower(btrim(l.industry)) = lower(btrim(r.value)))
            OR (r.field = 'region' AND lower(btrim(l.region)) = lower(btrim(r.value)))
            OR (r.field = 'size_band' AND l.size_band = r.value)
            OR (r.field = 'title' AND btrim(r.value) <> ''
                AND strpos(lower(l.title), lower(btrim(r.value))) > 0)
            OR (r.field = 'source_kind' AND s.kind = r.value)
            OR (r.field = 'recent_activities' AND coalesce(a.n, 0) >= r.threshold)
        )
        WHERE l.tenant_id = %s
    ),
    scores AS MATERIALIZED (
        SELECT l.id AS lead_id,
            GREATEST({SCORE_MIN}, LEAST({SCORE_MAX}, coalesce(sum(m.points), 0)))::int AS score,
            coalesce(
                jsonb_agg(jsonb_build_object('rule', m.text, 'points', m.points) ORDER BY m.ord)
                    FILTER (WHERE m.lead_id IS NOT NULL),
                '[]'::jsonb
            ) AS reasons
        FROM leads_lead l LEFT JOIN matched m ON m.lead_id = l.id
        WHERE l.tenant_id = %s
        GROUP BY l.id
    )"""
    return sql, params + [tenant.pk, _recent_since(), tenant.pk, tenant.pk]


@transaction.atomic
def leads_rescore_all(*, tenant: Tenant) -> int:
    """Recompute score and reasons of every lead of the tenant in one set-based UPDATE; only rows whose
    score or reasons change are written. Returns the number of leads changed."""
    cte, params = _scores_cte(tenant=tenant, rules=rule_specs(tenant=tenant))
    sql = f"""{cte}
    UPDATE leads_lead l SET score = s.score, score_reasons = s.reasons
    FROM scores s
    WHERE l.id = s.lead_id AND l.tenant_id = %s
      AND (l.score IS DISTINCT FROM s.score OR l.score_reasons IS DISTINCT FROM s.reasons)"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params + [tenant.pk])
        return cursor.rowcount


def scoring_preview_count(*, tenant: Tenant, rules: Sequence[RuleSpec], above: int = 50) -> int:
    """How many open leads (not deleted, converted or disqualified) would score above `above` under `rules`."""
    cte, params = _scores_cte(tenant=tenant, rules=rules)
    sql = f"""{cte}
    SELECT count(*) FROM scores s JOIN leads_lead l ON l.id = s.lead_id
    WHERE l.tenant_id = %s AND l.deleted_at IS NULL AND l.status NOT IN (%s, %s) AND s.score > %s"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params + [tenant.pk, LeadStatus.CONVERTED, LeadStatus.DISQUALIFIED, above])
        return cursor.fetchone()[0]


def _enqueue_rescore(tenant: Tenant) -> None:
    from leads.tasks_ops import rescore_leads

    rescore_leads.delay_on_commit(tenant.pk)


def scoring_rule_normalize(*, field: str, value: str, points: object) -> tuple[str, str, int]:
    """Validate a rule's field, value and points; returns (category, value, points) or raises."""
    errors: dict[str, str] = {}
    value = (value or "").strip()
    if field in FIT_FIELDS:
        category = ScoringCategory.FIT
    elif field in ENGAGEMENT_FIELDS:
        category = ScoringCategory.ENGAGEMENT
    else:
        raise ValidationError({"field": _("Choose what the rule looks at.")})
    if not value:
        errors["value"] = _("Enter the value the rule matches.")
    elif field == ScoringField.SIZE_BAND and value not in SizeBand.values:
        errors["value"] = _("Choose one of the company sizes: %(values)s.") % {
            "values": ", ".join(SizeBand.values)
        }
    elif field == ScoringField.SOURCE_KIND and value not in SourceKind.values:
        errors["value"] = _("Use inbound or incentive.")
    elif field == ScoringField.RECENT_ACTIVITIES:
        # isdecimal, not isdigit: "²" is a digit that int() refuses.
        if not value.isdecimal() or not 1 <= int(value) <= 1000:
            errors["value"] = _("Enter a whole number of activities from 1 to 1000.")
        else:
            value = str(int(value))
    try:
        points_int = int(points)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        points_int = 0
        errors["points"] = _("Enter whole points.")
    else:
        if points_int == 0 or abs(points_int) > POINTS_LIMIT:
            errors["points"] = _("Use -100 to 100 points, not 0.")
    if errors:
        raise ValidationError(errors)
    return category, value, points_int


@transaction.atomic
def scoring_rule_create(
    *, tenant: Tenant, actor: User, field: str, value: str, points: int, is_active: bool = True
) -> ScoringRule:
    """Create a rule; every lead is rescored after commit (Celery `rescore_leads`)."""
    category, value, points = scoring_rule_normalize(field=field, value=value, points=points)
    rule = ScoringRule.objects.create(
        tenant=tenant, category=category, field=field, value=value, points=points, is_active=is_active
    )
    _enqueue_rescore(tenant)
    return rule


@transaction.atomic
def scoring_rule_update(*, tenant: Tenant, actor: User, rule: ScoringRule, **fields: object) -> ScoringRule:
    """Change a rule; every lead is rescored after commit."""
    rule = ScoringRule.objects.select_for_update().get(tenant=tenant, pk=rule.pk)
    field = str(fields.get("field", rule.field))
    value = str(fields.get("value", rule.value))
    category, value, points = scoring_rule_normalize(
        field=field, value=value, points=fields.get("points", rule.points)
    )
    rule.category, rule.field, rule.value, rule.points = category, field, value, points
    if fields.get("is_active") is not None:
        rule.is_active = bool(fields["is_active"])
    rule.save()
    _enqueue_rescore(tenant)
    return rule


@transaction.atomic
def scoring_rule_delete(*, tenant: Tenant, actor: User, rule: ScoringRule) -> None:
    """Delete a rule; every lead is rescored after commit."""
    ScoringRule.objects.filter(tenant=tenant, pk=rule.pk).delete()
    _enqueue_rescore(tenant)
