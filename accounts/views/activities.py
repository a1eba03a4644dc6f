"""Pages of activities and tasks: logging an activity, the timeline's next page, the task list and its
complete and snooze buttons."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.forms.activities import ActivityQuickForm
from accounts.models import Activity, Opportunity
from accounts.selectors import activities as activities_selectors
from accounts.selectors import timeline as timeline_selectors
from accounts.selectors.opportunities import opportunity_get
from accounts.services import activities as activities_services
from accounts.views.common import (
    _account_for,
    _back,
    _contact_for,
    _lead_for,
    _opportunity_for,
    _service_error,
)
from crm.decorators import tenant_member_required
from crm.errors import AppError
from crm.models import Role
from crm.types import TenantHttpRequest


def _task_for(request: TenantHttpRequest, pk: int) -> Activity:
    """Tasks are completed and snoozed by their owner; admins and managers may do it for what they see."""
    try:
        task = activities_selectors.activity_get(tenant=request.tenant, membership=request.membership, pk=pk)
    except Activity.DoesNotExist as exc:
        raise Http404 from exc
    if task.owner_id != request.user.pk and request.membership.role not in (Role.ADMIN, Role.SALES_MANAGER):
        raise Http404
    return task


@tenant_member_required
@require_POST
def activity_create(request: TenantHttpRequest, slug: str) -> HttpResponse:
    """The quick-log form: log an activity on the posted record(s) and answer with the refreshed timeline
    (plus a fresh form out of band) and the HX-Trigger "activity-logged"; with an error (also: nothing typed),
    answer with the form and its errors."""
    form = ActivityQuickForm(request.POST)
    valid = form.is_valid()
    data = form.cleaned_data if valid else {}
    targets: dict[str, Any] = {"lead": None, "account": None, "contact": None, "opportunity": None}
    for name in targets:
        value = request.POST.get(name)
        if not value:
            continue
        if not value.isdecimal():
            raise Http404
        pk = int(value)
        if name == "lead":
            targets[name] = _lead_for(request, pk)
        elif name == "account":
            targets[name] = _account_for(request, pk)
        elif name == "contact":
            targets[name] = _contact_for(request, pk)
        else:
            targets[name] = _opportunity_for(request, pk)
    timeline_id = (data.get("timeline_id") if valid else None) or "timeline"
    context = {**targets, "timeline_id": timeline_id}
    if valid:
        try:
            activities_services.activity_log(
                tenant=request.tenant,
                actor=request.user,
                kind=data["kind"],
                subject=data["subject"],
                body=data["body"],
                due_at=data["due_at"],
                outcome=data.get("outcome") or "",
                duration_minutes=data.get("duration_minutes"),
                **targets,
            )
        except (ValidationError, AppError, PermissionDenied) as exc:
            _service_error(form, exc)
            valid = False
    if not valid:
        response = render(
            request, "accounts/partials/_activity_quick_form.html", {**context, "quick_form": form}
        )
        if request.htmx:
            response["HX-Retarget"] = f"#quick-log-{timeline_id}"
            response["HX-Reswap"] = "outerHTML"
        else:
            response.status_code = 400
        return response
    if not request.htmx:
        messages.success(request, _("Logged."))
        return redirect(_back(request, reverse("accounts:task-list", kwargs={"slug": slug})))
    context["timeline"] = timeline_selectors.timeline_for(
        tenant=request.tenant, membership=request.membership, **targets
    )
    response = render(request, "accounts/partials/_activity_logged.html", context)
    # The record's page refreshes what the activity changed (a lead's header, status and activity clock).
    response["HX-Trigger"] = "activity-logged"
    return response


TIMELINE_TARGETS = ("opportunity", "contact", "lead", "account")


@tenant_member_required
@require_GET
def timeline_more(request: TenantHttpRequest, slug: str) -> HttpResponse:
    """The timeline's "Show more" (htmx): the next page of items after `cursor`, for the one record named in
    the query (`account`, `contact`, `opportunity` or `lead` = id). A record the member may not see is a 404."""
    name = next((n for n in TIMELINE_TARGETS if request.GET.get(n)), None)
    value = request.GET.get(name, "") if name else ""
    if name is None or not value.isdecimal():
        raise Http404
    pk = int(value)
    getters = {"lead": _lead_for, "account": _account_for, "contact": _contact_for}
    if name == "opportunity":
        try:
            # A deleted deal's page still shows its timeline (for those who may restore it).
            record = opportunity_get(
                tenant=request.tenant, membership=request.membership, pk=pk, include_deleted=True
            )
        except Opportunity.DoesNotExist as exc:
            raise Http404 from exc
    else:
        record = getters[name](request, pk)
    scope: dict[str, Any] = {name: record}
    timeline = timeline_selectors.timeline_for(
        tenant=request.tenant,
        membership=request.membership,
        cursor=request.GET.get("cursor"),
        **scope,
    )
    return render(request, "accounts/partials/_timeline_items.html", {"timeline": timeline})


TASK_PAGE_SIZE = 20
MAX_TASK_OFFSET = 100_000


def _task_offset(request: TenantHttpRequest) -> int:
    value = request.GET.get("offset", "0")
    if not value.isdecimal() or int(value) > MAX_TASK_OFFSET:
        raise Http404
    return int(value)


@tenant_member_required
@require_GET
def task_list(request: TenantHttpRequest, slug: str) -> HttpResponse:
    """My tasks: each bucket's count and first page; "Show more" (`?bucket=<key>&offset=<n>`) answers htmx with
    the next rows (and the next button), a plain request with the page showing that bucket up to there."""
    tenant, membership = request.tenant, request.membership
    bucket = request.GET.get("bucket")
    if bucket is not None and bucket not in activities_selectors.TASK_BUCKETS:
        raise Http404
    offset = _task_offset(request) if bucket else 0
    now = timezone.now()  # one instant for the counts and the pages
    counts = activities_selectors.task_bucket_counts(tenant=tenant, membership=membership, now=now)
    if bucket and request.htmx:
        rows = activities_selectors.task_bucket_page(
            tenant=tenant, membership=membership, bucket=bucket, offset=offset, limit=TASK_PAGE_SIZE, now=now
        )
        shown = offset + len(rows)
        context = {"tasks": rows, "key": bucket, "count": counts[bucket], "shown": shown}
        return render(request, "accounts/partials/_activity_task_more.html", context)
    buckets = activities_selectors.TaskBuckets(overdue=[], today=[], upcoming=[], no_date=[])
    views = []
    for key, attribute in activities_selectors.TASK_BUCKETS.items():
        rows = []
        if counts[key]:
            size = TASK_PAGE_SIZE + (offset if key == bucket else 0)
            rows = activities_selectors.task_bucket_page(
                tenant=tenant, membership=membership, bucket=key, limit=size, now=now
            )
        setattr(buckets, attribute, rows)
        views.append({"key": key, "tasks": rows, "count": counts[key], "shown": len(rows)})
    return render(request, "accounts/task_list.html", {"buckets": buckets, "bucket_views": views})


def _task_response(request: TenantHttpRequest, slug: str, task: Activity, message: str) -> HttpResponse:
    if request.htmx:
        return render(
            request, "accounts/partials/_activity_task_row.html", {"task": task, "message": message}
        )
    messages.success(request, message)
    return redirect(_back(request, reverse("accounts:task-list", kwargs={"slug": slug})))


@tenant_member_required
@require_POST
def task_complete(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    task = _task_for(request, pk)
    task = activities_services.activity_complete(tenant=request.tenant, actor=request.user, activity=task)
    return _task_response(request, slug, task, _("Done."))


@tenant_member_required
@require_POST
def task_snooze(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    task = _task_for(request, pk)
    try:
        task = activities_services.activity_snooze(
            tenant=request.tenant, actor=request.user, activity=task, delta=request.POST.get("by", "1d")
        )
    except (ValidationError, AppError) as exc:
        message = " ".join(getattr(exc, "messages", [str(exc)]))
        return _task_response(request, slug, task, message)
    return _task_response(request, slug, task, _("Snoozed."))


ACTIVITY_PAGE_SIZE = 50


@tenant_member_required
@require_GET
def activity_list(request: TenantHttpRequest, slug: str) -> HttpResponse:
    """The activities behind a number (the dashboards' drill-down): the activity list filters (kind, done, owner,
    occurred_after/before, ...) over the activities the member may see, newest first, 50 a page (`?page=`; one
    row more is read to know whether there is a next page, so no count query)."""
    tenant, membership = request.tenant, request.membership
    filters = request.GET.copy()
    filters.pop("page", None)
    try:
        qs = activities_selectors.activity_list(tenant=tenant, membership=membership, filters=filters)
    except ValidationError as error:
        # A filter value that does not exist for this member (another tenant's owner id, a bad date): no rows.
        context = {"activities": [], "errors": error.messages, "first_index": 1}
        return render(request, "accounts/activity_list.html", context, status=400)
    try:
        page = max(1, int(request.GET.get("page") or 1))
    except ValueError:
        page = 1
    start = (page - 1) * ACTIVITY_PAGE_SIZE
    rows = list(qs.order_by("-occurred_at", "-pk")[start : start + ACTIVITY_PAGE_SIZE + 1])
    has_next = len(rows) > ACTIVITY_PAGE_SIZE
    params = request.GET.copy()
    params["page"] = str(page + 1)
    next_url = "?" + params.urlencode() if has_next else ""
    params["page"] = str(page - 1)
    previous_url = "?" + params.urlencode() if page > 1 else ""
    return render(
        request,
        "accounts/activity_list.html",
        {
            "activities": rows[:ACTIVITY_PAGE_SIZE],
            "next_url": next_url,
            "previous_url": previous_url,
            "first_index": start + 1,
        },
    )
