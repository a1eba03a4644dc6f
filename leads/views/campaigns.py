"""Pages of campaigns, with the campaign funnel."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.types import TenantHttpRequest
from crm.viewutils import apply_validation_error
from leads.filters.campaigns import CampaignFilter
from leads.forms.campaigns import CampaignForm
from leads.models import Campaign
from leads.selectors import campaigns as campaigns_selectors
from leads.selectors import funnels as funnels_selectors
from leads.selectors import setup_roles as setup_roles_selectors
from leads.services import campaigns as campaigns_services
from leads.views.setup_helpers import edit_only, get_or_404, read_sources, setup_context

CAMPAIGNS_PER_PAGE = 25


@read_sources
def campaign_list(request: TenantHttpRequest, slug: str) -> HttpResponse:
    base = campaigns_selectors.campaign_list(tenant=request.tenant, membership=request.membership)
    filterset = CampaignFilter(request.GET or None, queryset=base, request=request)
    queryset = filterset.qs if filterset.is_bound and filterset.is_valid() else base
    if filterset.is_bound and not filterset.is_valid():
        queryset = base.none()
    page = Paginator(queryset, CAMPAIGNS_PER_PAGE).get_page(request.GET.get("page"))
    deleted = None
    if request.GET.get("deleted", "").isdecimal() and setup_roles_selectors.can_edit(request.membership):
        deleted = Campaign.objects.filter(
            tenant=request.tenant, pk=int(request.GET["deleted"]), deleted_at__isnull=False
        ).first()
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("deleted", None)
    context = setup_context(
        request,
        page=page,
        filterset=filterset,
        query=query.urlencode(),
        deleted=deleted,
        sees_all=setup_roles_selectors.sees_all_leads(request.membership),
    )
    template = "leads/partials/_campaign_table.html" if request.htmx else "leads/campaign_list.html"
    return render(request, template, context)


def _campaign_fields(form: CampaignForm) -> dict[str, Any]:
    keys = ("name", "channel", "source", "source_kind", "cost", "currency", "start_date", "end_date", "owner")
    return {**{k: form.cleaned_data[k] for k in keys}, "external_id": form.cleaned_data["external_id"]}


@edit_only
def campaign_create(request: TenantHttpRequest, slug: str) -> HttpResponse:
    form = CampaignForm(request.POST or None, tenant=request.tenant, initial={"owner": request.user})
    if request.method == "POST" and form.is_valid():
        try:
            campaign = campaigns_services.campaign_create(
                tenant=request.tenant, actor=request.user, **_campaign_fields(form)
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Campaign “%(name)s” created.") % {"name": campaign.name})
            return redirect("leads:campaign-detail", slug=slug, pk=campaign.pk)
    return render(request, "leads/campaign_form.html", setup_context(request, form=form, campaign=None))


@edit_only
def campaign_edit(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    campaign = get_or_404(
        campaigns_selectors.campaign_get, tenant=request.tenant, membership=request.membership, pk=pk
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
            campaigns_services.campaign_update(
                tenant=request.tenant, actor=request.user, campaign=campaign, **_campaign_fields(form)
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("leads:campaign-detail", slug=slug, pk=campaign.pk)
    return render(request, "leads/campaign_form.html", setup_context(request, form=form, campaign=campaign))


@read_sources
def campaign_detail(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    campaign = get_or_404(
        campaigns_selectors.campaign_get, tenant=request.tenant, membership=request.membership, pk=pk
    )
    funnel = funnels_selectors.campaign_funnel(
        tenant=request.tenant, membership=request.membership, campaign=campaign
    )
    chart = {
        "labels": [str(step["label"]) for step in funnel["steps"]],
        "datasets": [{"label": _("Leads"), "data": [step["count"] for step in funnel["steps"]]}],
    }
    return render(
        request,
        "leads/campaign_detail.html",
        setup_context(request, campaign=campaign, funnel=funnel, chart_json=json.dumps(chart)),
    )


@edit_only
@require_POST
def campaign_delete(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    campaign = get_or_404(
        campaigns_selectors.campaign_get, tenant=request.tenant, membership=request.membership, pk=pk
    )
    campaigns_services.campaign_delete(tenant=request.tenant, actor=request.user, campaign=campaign)
    return redirect(f"{reverse('leads:campaign-list', kwargs={'slug': slug})}?deleted={campaign.pk}")


@edit_only
@require_POST
def campaign_restore(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    campaign = get_or_404(
        campaigns_selectors.campaign_get,
        tenant=request.tenant,
        membership=request.membership,
        pk=pk,
        include_deleted=True,
    )
    campaigns_services.campaign_restore(tenant=request.tenant, actor=request.user, campaign=campaign)
    messages.success(request, _("Campaign “%(name)s” restored.") % {"name": campaign.name})
    return redirect("leads:campaign-detail", slug=slug, pk=campaign.pk)
