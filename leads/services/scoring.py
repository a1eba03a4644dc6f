"""Scoring rules (writes) and scoring: `lead_rescore(tenant=, lead=)` computes score and reasons of one lead
from the active rules (called on every lead write); `leads_rescore_all(tenant=)` recomputes every lead of the
tenant in one set-based UPDATE (the Celery task
`leads.tasks.rescore_leads` runs it after a rule changes)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Activity
from crm.models import Tenant, User, ValueListKey
from crm.value_lists import built_in_label, match_value, value_list
from leads.models import Lead, LeadStatus, ScoringCategory, ScoringField, ScoringRule, SizeBand, SourceKind
from leads.services.criteria import criterion_norm

RECENT_ACTIVITY_DAYS = 30


SCORE_MIN, SCORE_MAX = 0, 100


POINTS_LIMIT = 100


FIT_FIELDS = frozenset(
    {ScoringField.INDUSTRY, ScoringField.SIZE_BAND, ScoringField.REGION, ScoringField.TITLE}
)


ENGAGEMENT_FIELDS = frozenset({ScoringField.RECENT_ACTIVITIES, ScoringField.SOURCE_KIND})


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
        return _("Company size: %(value)s") % {"value": built_in_label(ValueListKey.SIZE_BAND, value)}
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


def scores_recent_since(*, tenant: Tenant) -> datetime.datetime | None:
    """Since when a done activity counts for the tenant's "recent activities" rules; None when it has none (then
    no activity changes a score)."""
    active = ScoringRule.objects.filter(tenant=tenant, is_active=True, field=ScoringField.RECENT_ACTIVITIES)
    return _recent_since() if active.exists() else None


def _rule_matches(rule: RuleSpec, lead: Lead, *, source_kind: str, recent_activities: int) -> bool:
    field, value = rule.field, rule.value
    if field == ScoringField.INDUSTRY:
        return criterion_norm(lead.industry) == criterion_norm(value)
    if field == ScoringField.REGION:
        return criterion_norm(lead.region) == criterion_norm(value)
    if field == ScoringField.SIZE_BAND:
        return (lead.size_band or "") == value
    if field == ScoringField.TITLE:
        return bool(criterion_norm(value)) and criterion_norm(value) in (lead.title or "").lower()
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


def _scores_cte(
    *, tenant: Tenant, rules: Sequence[RuleSpec], lead_ids: Sequence[int] | None = None
) -> tuple[str, list]:
    """`WITH ... scores(lead_id, score, reasons)` for every lead of the tenant: the same matching as
    `_rule_matches`, as one join of leads x rules, summed and aggregated in SQL. The CTEs are MATERIALIZED:
    inlined, a planner without fresh statistics (rows just bulk-inserted) nests the whole aggregate under
    every updated row, which is quadratic."""
    if rules:
        rows = ", ".join(["(%s::int, %s::text, %s::text, %s::int, %s::int, %s::text)"] * len(rules))
        rules_sql = f"SELECT * FROM (VALUES {rows}) AS v(ord, field, value, threshold, points, text)"  # noqa: S608 -- {rows} holds only %s placeholders; every value is bound
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
          {{only_activities}}
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
        WHERE l.tenant_id = %s {{only_leads}}
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
        WHERE l.tenant_id = %s {{only_leads}}
        GROUP BY l.id
    )"""  # noqa: S608 -- {rules_sql} is placeholders only (above); every value is bound
    if lead_ids is None:
        sql = sql.replace("{only_activities}", "").replace("{only_leads}", "")
        return sql, params + [tenant.pk, _recent_since(), tenant.pk, tenant.pk]
    ids = list(lead_ids)
    sql = sql.replace("{only_activities}", "AND lead_id = ANY(%s)").replace(
        "{only_leads}", "AND l.id = ANY(%s)"
    )
    return sql, params + [tenant.pk, _recent_since(), ids, tenant.pk, ids, tenant.pk, ids]


def _rescore(*, tenant: Tenant, lead_ids: Sequence[int] | None) -> int:
    """One UPDATE of score and reasons from _scores_cte; only rows whose score or reasons change are written."""
    cte, params = _scores_cte(tenant=tenant, rules=rule_specs(tenant=tenant), lead_ids=lead_ids)
    sql = f"""{cte}
    UPDATE leads_lead l SET score = s.score, score_reasons = s.reasons
    FROM scores s
    WHERE l.id = s.lead_id AND l.tenant_id = %s
      AND (l.score IS DISTINCT FROM s.score OR l.score_reasons IS DISTINCT FROM s.reasons)"""  # noqa: S608 -- {cte} from _scores_cte (placeholders only); values are bound
    with connection.cursor() as cursor:
        cursor.execute(sql, params + [tenant.pk])
        return cursor.rowcount


@transaction.atomic
def leads_rescore_all(*, tenant: Tenant) -> int:
    """Recompute score and reasons of every lead of the tenant in one set-based UPDATE; only rows whose
    score or reasons change are written. Returns the number of leads changed."""
    return _rescore(tenant=tenant, lead_ids=None)


@transaction.atomic
def leads_rescore_ids(*, tenant: Tenant, lead_ids: Sequence[int]) -> int:
    """leads_rescore_all for these leads only (the leads of an import's chunk of activities): one UPDATE."""
    if not lead_ids:
        return 0
    return _rescore(tenant=tenant, lead_ids=lead_ids)


def scoring_preview_count(*, tenant: Tenant, rules: Sequence[RuleSpec], above: int = 50) -> int:
    """How many open leads (not deleted, converted or disqualified) would score above `above` under `rules`."""
    cte, params = _scores_cte(tenant=tenant, rules=rules)
    sql = f"""{cte}
    SELECT count(*) FROM scores s JOIN leads_lead l ON l.id = s.lead_id
    WHERE l.tenant_id = %s AND l.deleted_at IS NULL AND l.status NOT IN (%s, %s) AND s.score > %s"""  # noqa: S608 -- {cte} from _scores_cte (placeholders only); values are bound
    with connection.cursor() as cursor:
        cursor.execute(sql, params + [tenant.pk, LeadStatus.CONVERTED, LeadStatus.DISQUALIFIED, above])
        return cursor.fetchone()[0]


def leads_rescore_all_on_commit(tenant: Tenant) -> None:
    from leads.tasks import rescore_leads

    rescore_leads.delay_on_commit(tenant.pk)


def scoring_rule_normalize(
    *, field: str, value: str, points: object, tenant: Tenant | None = None, current: str = ""
) -> tuple[str, str, int]:
    """Validate a rule's field, value and points; returns (category, value, points) or raises. A company size is a
    value of the `tenant`'s size band list (the built-in bands without a tenant); `current` is the rule's stored
    value, which stays valid after it was retired."""
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
    elif field == ScoringField.SIZE_BAND:
        # A value of the company's size band list, as the list spells it (the built-in bands without a tenant).
        bands = value_list(tenant=tenant, list_key=ValueListKey.SIZE_BAND) if tenant else []
        found = (
            match_value(bands, value, current=current)
            if tenant
            else (value if value in SizeBand.values else None)
        )
        if found is None:
            active = [item.value for item in bands if not item.retired] if tenant else list(SizeBand.values)
            errors["value"] = _("Choose one of the company sizes: %(values)s.") % {
                "values": ", ".join(active)
            }
        else:
            value = found
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
    category, value, points = scoring_rule_normalize(field=field, value=value, points=points, tenant=tenant)
    rule = ScoringRule.objects.create(
        tenant=tenant, category=category, field=field, value=value, points=points, is_active=is_active
    )
    leads_rescore_all_on_commit(tenant)
    return rule


@transaction.atomic
def scoring_rule_update(*, tenant: Tenant, actor: User, rule: ScoringRule, **fields: object) -> ScoringRule:
    """Change a rule; every lead is rescored after commit."""
    rule = ScoringRule.objects.select_for_update().get(tenant=tenant, pk=rule.pk)
    field = str(fields.get("field", rule.field))
    value = str(fields.get("value", rule.value))
    category, value, points = scoring_rule_normalize(
        field=field,
        value=value,
        points=fields.get("points", rule.points),
        tenant=tenant,
        current=rule.value if rule.field == field else "",
    )
    rule.category, rule.field, rule.value, rule.points = category, field, value, points
    if fields.get("is_active") is not None:
        rule.is_active = bool(fields["is_active"])
    rule.save()
    leads_rescore_all_on_commit(tenant)
    return rule


@transaction.atomic
def scoring_rule_delete(*, tenant: Tenant, actor: User, rule: ScoringRule) -> None:
    """Delete a rule; every lead is rescored after commit."""
    ScoringRule.objects.filter(tenant=tenant, pk=rule.pk).delete()
    leads_rescore_all_on_commit(tenant)
