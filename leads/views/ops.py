"""Pages of the ops area: lead sources (with the quality report), campaigns, territories, scoring rules.

Read pages: sources and campaigns for every selling role, territories and scoring rules for admin, ops and
managers. Edit pages and actions: admin and ops only; other roles get 404 (never 403).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.decorators import tenant_roles_required
from crm.viewutils import apply_validation_error
from leads import filters_ops
from leads.forms_ops import (
    CampaignForm,
    PeriodForm,
    ScoringRuleForm,
    SourceForm,
    TerritoryForm,
    TerritoryTestForm,
)
from leads.models import Campaign, LeadSource, ScoringRule, SourceKind, Territory
from leads.selectors import ops as selectors
from leads.services import ops as services

read_sources = tenant_roles_required(selectors.SOURCE_READ_ROLES)
read_config = tenant_roles_required(selectors.CONFIG_READ_ROLES)
edit_only = tenant_roles_required(selectors.EDIT_ROLES)

CAMPAIGNS_PER_PAGE = 25
PREVIEW_ABOVE = 50


def _get_or_404(getter: Any, **kwargs: Any) -> Any:
    try:
        return getter(**kwargs)
    except (LeadSource.DoesNotExist, Campaign.DoesNotExist, Territory.DoesNotExist, ScoringRule.DoesNotExist):
        raise Http404 from None


def _ctx(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {"can_edit": selectors.can_edit(request.membership), **extra}


# ------------------------------------------------------------------------------------------- lead sources


def _quality_chart(quality: selectors.Quality) -> dict[str, Any]:
    """Chart.js data: rates of inbound vs incentive (quality) and leads per source (quantity)."""

    def pct(rate: float | None) -> float | None:
        return None if rate is None else round(rate * 100, 1)

    metrics = [
        ("lead_to_mql_rate", _("Lead → MQL")),
        ("mql_to_sql_rate", _("MQL → SQL")),
        ("lead_conversion_rate", _("Lead → converted")),
        ("lead_to_win_rate", _("Lead → won deal")),
    ]
    return {
        "quality": {
            "labels": [label for _key, label in metrics],
            "datasets": [
                {
                    "label": str(kind.extra["label"]),
                    "kind": kind.extra["kind"],
                    "data": [pct(getattr(kind, key)) for key, _label in metrics],
                }
                for kind in quality.kinds
            ],
            "unit": "%",
        },
        "volume": {
            "labels": [str(row.extra["name"]) for row in quality.sources],
            "kinds": [row.extra["kind"] for row in quality.sources],
            "datasets": [
                {"label": _("Leads"), "data": [row.leads for row in quality.sources]},
                {"label": _("Won deals"), "data": [row.won for row in quality.sources]},
            ],
        },
    }


@read_sources
def source_list(request: HttpRequest, slug: str) -> HttpResponse:
    period = PeriodForm(request.GET or None)
    dates = period.cleaned_data if period.is_valid() else {}
    quality = selectors.source_quality(
        tenant=request.tenant,
        membership=request.membership,
        created_from=dates.get("created_from"),
        created_to=dates.get("created_to"),
    )
    deleted = None
    if request.GET.get("deleted", "").isdecimal() and selectors.can_edit(request.membership):
        deleted = LeadSource.objects.filter(
            tenant=request.tenant, pk=int(request.GET["deleted"]), deleted_at__isnull=False
        ).first()
    context = _ctx(
        request,
        quality=quality,
        chart_json=json.dumps(_quality_chart(quality)),
        period=period,
        deleted=deleted,
        scoped=not selectors.sees_all_leads(request.membership),
        kinds=SourceKind,
    )
    template = "leads/partials/_source_quality.html" if request.htmx else "leads/source_list.html"
    return render(request, template, context)


def _source_fields(form: SourceForm) -> dict[str, Any]:
    return {k: form.cleaned_data[k] for k in ("name", "kind", "description", "is_active")}


@edit_only
def source_create(request: HttpRequest, slug: str) -> HttpResponse:
    form = SourceForm(request.POST or None, initial={"kind": SourceKind.INBOUND, "is_active": True})
    if request.method == "POST" and form.is_valid():
        try:
            source = services.source_create(tenant=request.tenant, actor=request.user, **_source_fields(form))
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Lead source “%(name)s” created.") % {"name": source.name})
            return redirect("leads:source-list", slug=slug)
    return render(request, "leads/source_form.html", _ctx(request, form=form, source=None))


@edit_only
def source_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    source = _get_or_404(selectors.source_get, tenant=request.tenant, membership=request.membership, pk=pk)
    initial = {k: getattr(source, k) for k in ("name", "kind", "description", "is_active")}
    form = SourceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.source_update(
                tenant=request.tenant, actor=request.user, source=source, **_source_fields(form)
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("leads:source-list", slug=slug)
    return render(request, "leads/source_form.html", _ctx(request, form=form, source=source))


@edit_only
@require_POST
def source_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    source = _get_or_404(selectors.source_get, tenant=request.tenant, membership=request.membership, pk=pk)
    services.source_delete(tenant=request.tenant, actor=request.user, source=source)
    return redirect(f"{reverse('leads:source-list', kwargs={'slug': slug})}?deleted={source.pk}")


@edit_only
@require_POST
def source_restore(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    source = _get_or_404(
        selectors.source_get,
        tenant=request.tenant,
        membership=request.membership,
        pk=pk,
        include_deleted=True,
    )
    services.source_restore(tenant=request.tenant, actor=request.user, source=source)
    messages.success(request, _("Lead source “%(name)s” restored.") % {"name": source.name})
    return redirect("leads:source-list", slug=slug)


# ---------------------------------------------------------------------------------------------- campaigns


@read_sources
def campaign_list(request: HttpRequest, slug: str) -> HttpResponse:
    base = selectors.campaign_list(tenant=request.tenant, membership=request.membership)
    filterset = filters_ops.CampaignFilter(request.GET or None, queryset=base, request=request)
    queryset = filterset.qs if filterset.is_bound and filterset.is_valid() else base
    if filterset.is_bound and not filterset.is_valid():
        queryset = base.none()
    page = Paginator(queryset, CAMPAIGNS_PER_PAGE).get_page(request.GET.get("page"))
    deleted = None
    if request.GET.get("deleted", "").isdecimal() and selectors.can_edit(request.membership):
        deleted = Campaign.objects.filter(
            tenant=request.tenant, pk=int(request.GET["deleted"]), deleted_at__isnull=False
        ).first()
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("deleted", None)
    context = _ctx(
        request,
        page=page,
        filterset=filterset,
        query=query.urlencode(),
        deleted=deleted,
        sees_all=selectors.sees_all_leads(request.membership),
    )
    template = "leads/partials/_campaign_table.html" if request.htmx else "leads/campaign_list.html"
    return render(request, template, context)


def _campaign_fields(form: CampaignForm) -> dict[str, Any]:
    keys = ("name", "channel", "source", "source_kind", "cost", "currency", "start_date", "end_date", "owner")
    return {**{k: form.cleaned_data[k] for k in keys}, "external_id": form.cleaned_data["external_id"]}


@edit_only
def campaign_create(request: HttpRequest, slug: str) -> HttpResponse:
    form = CampaignForm(request.POST or None, tenant=request.tenant, initial={"owner": request.user})
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create(
                tenant=request.tenant, actor=request.user, **_campaign_fields(form)
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Campaign “%(name)s” created.") % {"name": campaign.name})
            return redirect("leads:campaign-detail", slug=slug, pk=campaign.pk)
    return render(request, "leads/campaign_form.html", _ctx(request, form=form, campaign=None))


@edit_only
def campaign_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    campaign = _get_or_404(
        selectors.campaign_get, tenant=request.tenant, membership=request.membership, pk=pk
    )
    initial = {
        "name": campaign.name,
        "channel": campaign.channel,
        "source": campaign.source,
        "source_kind": "" if campaign.source_id else campaign.source_kind,
        "cost": campaign.cost,
        "currency": campaign.currency,
        "start_date": campaign.start_date,
        "end_date": campaign.end_date,
        "owner": campaign.owner,
        "external_id": campaign.external_id,
    }
    form = CampaignForm(
        request.POST or None, tenant=request.tenant, current_source=campaign.source, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.campaign_update(
                tenant=request.tenant, actor=request.user, campaign=campaign, **_campaign_fields(form)
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("leads:campaign-detail", slug=slug, pk=campaign.pk)
    return render(request, "leads/campaign_form.html", _ctx(request, form=form, campaign=campaign))


@read_sources
def campaign_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    campaign = _get_or_404(
        selectors.campaign_get, tenant=request.tenant, membership=request.membership, pk=pk
    )
    funnel = selectors.campaign_funnel(
        tenant=request.tenant, membership=request.membership, campaign=campaign
    )
    chart = {
        "labels": [str(step["label"]) for step in funnel["steps"]],
        "datasets": [{"label": _("Leads"), "data": [step["count"] for step in funnel["steps"]]}],
    }
    return render(
        request,
        "leads/campaign_detail.html",
        _ctx(request, campaign=campaign, funnel=funnel, chart_json=json.dumps(chart)),
    )


@edit_only
@require_POST
def campaign_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    campaign = _get_or_404(
        selectors.campaign_get, tenant=request.tenant, membership=request.membership, pk=pk
    )
    services.campaign_delete(tenant=request.tenant, actor=request.user, campaign=campaign)
    return redirect(f"{reverse('leads:campaign-list', kwargs={'slug': slug})}?deleted={campaign.pk}")


@edit_only
@require_POST
def campaign_restore(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    campaign = _get_or_404(
        selectors.campaign_get,
        tenant=request.tenant,
        membership=request.membership,
        pk=pk,
        include_deleted=True,
    )
    services.campaign_restore(tenant=request.tenant, actor=request.user, campaign=campaign)
    messages.success(request, _("Campaign “%(name)s” restored.") % {"name": campaign.name})
    return redirect("leads:campaign-detail", slug=slug, pk=campaign.pk)


# --------------------------------------------------------------------------------------------- territories


def _territory_preview(request: HttpRequest) -> tuple[TerritoryTestForm, Any]:
    form = TerritoryTestForm(request.GET if request.GET else None)
    if not form.is_valid():
        return form, None
    preview = selectors.territory_preview(
        tenant=request.tenant,
        region=form.cleaned_data["region"],
        industry=form.cleaned_data["industry"],
        size_band=form.cleaned_data["size_band"],
    )
    return form, preview


@read_config
def territory_list(request: HttpRequest, slug: str) -> HttpResponse:
    territories = list(selectors.territory_list(tenant=request.tenant, membership=request.membership))
    active_ids = selectors.active_user_ids(tenant=request.tenant)
    rows = [
        {
            "territory": t,
            "members": list(t.territory_members.all()),
            "next_user": selectors.territory_next_user(t, active_ids),
        }
        for t in territories
    ]
    test_form, preview = _territory_preview(request)
    context = _ctx(request, rows=rows, active_ids=active_ids, test_form=test_form, preview=preview)
    return render(request, "leads/territory_list.html", context)


@read_config
def territory_test(request: HttpRequest, slug: str) -> HttpResponse:
    """ "Test a lead": which territory a lead with these attributes gets, and who is next (nothing changes).
    Without htmx the territory page shows the answer."""
    if not request.htmx:
        query = request.GET.urlencode()
        return redirect(f"{reverse('leads:territory-list', kwargs={'slug': slug})}?{query}")
    test_form, preview = _territory_preview(request)
    return render(
        request,
        "leads/partials/_territory_test_result.html",
        _ctx(request, preview=preview, test_form=test_form),
    )


def _territory_fields(form: TerritoryForm) -> dict[str, Any]:
    keys = ("name", "priority", "regions", "industries", "size_bands", "is_active")
    return {**{k: form.cleaned_data[k] for k in keys}, "member_ids": form.cleaned_data["members"]}


@edit_only
def territory_create(request: HttpRequest, slug: str) -> HttpResponse:
    form = TerritoryForm(request.POST or None, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        try:
            territory = services.territory_create(
                tenant=request.tenant, actor=request.user, **_territory_fields(form)
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Territory “%(name)s” created.") % {"name": territory.name})
            return redirect("leads:territory-list", slug=slug)
    return render(request, "leads/territory_form.html", _ctx(request, form=form, territory=None))


@edit_only
def territory_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    territory = _get_or_404(
        selectors.territory_get, tenant=request.tenant, membership=request.membership, pk=pk
    )
    member_ids = [m.user_id for m in territory.territory_members.all()]
    initial = {
        "name": territory.name,
        "priority": territory.priority,
        "regions": ", ".join(territory.regions),
        "industries": ", ".join(territory.industries),
        "size_bands": territory.size_bands,
        "members": [str(pk) for pk in member_ids],
        "is_active": territory.is_active,
    }
    form = TerritoryForm(
        request.POST or None, tenant=request.tenant, current_member_ids=member_ids, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.territory_update(
                tenant=request.tenant, actor=request.user, territory=territory, **_territory_fields(form)
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("leads:territory-list", slug=slug)
    return render(request, "leads/territory_form.html", _ctx(request, form=form, territory=territory))


@edit_only
@require_POST
def territory_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    territory = _get_or_404(
        selectors.territory_get, tenant=request.tenant, membership=request.membership, pk=pk
    )
    services.territory_delete(tenant=request.tenant, actor=request.user, territory=territory)
    messages.success(request, _("Territory “%(name)s” deleted.") % {"name": territory.name})
    return redirect("leads:territory-list", slug=slug)


@edit_only
@require_POST
def territory_move(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    territory = _get_or_404(
        selectors.territory_get, tenant=request.tenant, membership=request.membership, pk=pk
    )
    direction = "up" if request.POST.get("direction") == "up" else "down"
    services.territory_move(
        tenant=request.tenant, actor=request.user, territory=territory, direction=direction
    )
    return redirect("leads:territory-list", slug=slug)


# ------------------------------------------------------------------------------------------- scoring rules


@read_config
def scoring_rules(request: HttpRequest, slug: str) -> HttpResponse:
    """The rules, and (for admin and ops) the form that adds one, with a live preview."""
    form = ScoringRuleForm(request.POST or None, initial={"is_active": True, "points": 10})
    if request.method == "POST":
        if not selectors.can_edit(request.membership):
            raise Http404
        if form.is_valid():
            try:
                services.scoring_rule_create(
                    tenant=request.tenant,
                    actor=request.user,
                    field=form.cleaned_data["field"],
                    value=form.cleaned_data["value"],
                    points=form.cleaned_data["points"],
                    is_active=form.cleaned_data["is_active"],
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("Rule added; scores are being updated."))
                return redirect("leads:scoring-rules", slug=slug)
    rules = list(selectors.scoring_rule_list(tenant=request.tenant, membership=request.membership))
    groups = [
        (label, [r for r in rules if r.category == key])
        for key, label in ScoringRule._meta.get_field("category").choices
    ]
    context = _ctx(
        request,
        groups=groups,
        form=form,
        kinds=SourceKind,
        above=PREVIEW_ABOVE,
        scoring_above=selectors.leads_scoring_above(
            tenant=request.tenant, membership=request.membership, above=PREVIEW_ABOVE
        ),
    )
    return render(request, "leads/scoring_rules.html", context)


@edit_only
def scoring_rule_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    rule = _get_or_404(
        selectors.scoring_rule_get, tenant=request.tenant, membership=request.membership, pk=pk
    )
    form = ScoringRuleForm(request.POST or None, initial=ScoringRuleForm.initial_for(rule))
    if request.method == "POST" and form.is_valid():
        try:
            services.scoring_rule_update(
                tenant=request.tenant,
                actor=request.user,
                rule=rule,
                field=form.cleaned_data["field"],
                value=form.cleaned_data["value"],
                points=form.cleaned_data["points"],
                is_active=form.cleaned_data["is_active"],
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Rule saved; scores are being updated."))
            return redirect("leads:scoring-rules", slug=slug)
    return render(
        request, "leads/scoring_rule_form.html", _ctx(request, form=form, rule=rule, above=PREVIEW_ABOVE)
    )


@edit_only
@require_POST
def scoring_rule_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    rule = _get_or_404(
        selectors.scoring_rule_get, tenant=request.tenant, membership=request.membership, pk=pk
    )
    services.scoring_rule_delete(tenant=request.tenant, actor=request.user, rule=rule)
    messages.success(request, _("Rule deleted; scores are being updated."))
    return redirect("leads:scoring-rules", slug=slug)


@edit_only
@require_POST
def scoring_preview(request: HttpRequest, slug: str) -> HttpResponse:
    """ "N open leads would score above 50" with the rules as they would be after saving the form: the current
    active rules, without the rule being edited (`rule` = its id), plus the draft when it is valid and active."""
    form = ScoringRuleForm(request.POST)
    rules = list(ScoringRule.objects.filter(tenant=request.tenant, is_active=True))
    editing = request.POST.get("rule", "")
    if editing.isdecimal():
        rules = [r for r in rules if r.pk != int(editing)]
    draft_ok = False
    if form.is_valid():
        try:
            category, value, points = services.scoring_rule_normalize(
                field=form.cleaned_data["field"],
                value=form.cleaned_data["value"],
                points=form.cleaned_data["points"],
            )
        except ValidationError:
            pass
        else:
            draft_ok = True
            if form.cleaned_data["is_active"]:
                rules.append(
                    ScoringRule(
                        tenant=request.tenant,
                        category=category,
                        field=form.cleaned_data["field"],
                        value=value,
                        points=points,
                    )
                )
    count = services.scoring_preview_count(
        tenant=request.tenant,
        rules=services.rule_specs(tenant=request.tenant, rules=rules),
        above=PREVIEW_ABOVE,
    )
    context = _ctx(
        request,
        count=count,
        draft_ok=draft_ok,
        above=PREVIEW_ABOVE,
        now_count=selectors.leads_scoring_above(
            tenant=request.tenant, membership=request.membership, above=PREVIEW_ABOVE
        ),
    )
    return render(request, "leads/partials/_scoring_preview.html", context)
