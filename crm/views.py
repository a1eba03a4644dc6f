"""Pages of the tenancy core: sign-up, login, tenant home, members, invitations, settings, language, health."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, LogoutView
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.http import require_POST
from rest_framework.exceptions import NotFound

from crm import health, selectors, services
from crm.decorators import tenant_admin_required, tenant_member_required
from crm.forms import (
    AcceptInvitationForm,
    CompanySignupForm,
    EmailLoginForm,
    InviteForm,
    MembershipForm,
    SignupForm,
    TenantSettingsForm,
)
from crm.home import home_data
from crm.models import Invitation, Membership, Tenant
from crm.tenancy import tenant_context
from crm.types import TenantHttpRequest, tenant_request
from crm.viewutils import apply_validation_error


class CrmLoginView(LoginView):
    template_name = "crm/login.html"
    authentication_form = EmailLoginForm
    redirect_authenticated_user = True


class CrmLogoutView(LogoutView):
    pass


def home(request: HttpRequest) -> HttpResponse:
    """Send a logged-in user to their first tenant, or to the page that says they have none."""
    if not request.user.is_authenticated:
        return redirect("crm:login")
    memberships = selectors.memberships_for_user(user=tenant_request(request).user)
    if not memberships:
        return render(request, "crm/no_tenant.html")
    return redirect("crm:tenant-home", slug=memberships[0].tenant.slug)


def _signup_password_ok(request: HttpRequest, *, email: str, password: str) -> bool:
    """An existing account signs up a new company only with its password, checked through `authenticate` so the
    login throttle (django-axes) counts every guess made on this page as it does on the login page."""
    existing = selectors.user_find(email=email)
    if existing is None:
        return True
    return authenticate(request, username=existing.email, password=password) is not None


def _signup_from_tenant(request: HttpRequest) -> Tenant | None:
    """The company a logged-in user signs up another one from: `from` (a slug, from the company menu) when they
    are a member of it, else their first company. Another slug is ignored, as if it did not exist."""
    memberships = selectors.memberships_for_user(user=tenant_request(request).user)
    wanted = request.POST.get("from") or request.GET.get("from") or ""
    chosen = next((m for m in memberships if m.tenant.slug == wanted), None)
    if chosen is None and memberships:
        chosen = memberships[0]
    return chosen.tenant if chosen is not None else None


def _company_signup(request: HttpRequest) -> HttpResponse:
    """Sign-up of another company while logged in: only the company is asked (its time zone, currency and language
    default to the company the user comes from); the user becomes the new company's admin."""
    user = tenant_request(request).user
    source = _signup_from_tenant(request)
    form = CompanySignupForm(request.POST or None, initial=CompanySignupForm.initial_from(source))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            tenant = services.tenant_create(
                slug=data["slug"],
                name=data["company_name"],
                time_zone=data["time_zone"],
                currency=data["currency"],
                default_locale=data["default_locale"],
                admin_email=user.email,
                admin_password=None,
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Welcome to %(company)s.") % {"company": tenant.name})
            return redirect("crm:tenant-home", slug=tenant.slug)
    settings_open = any(form[name].errors for name in CompanySignupForm.SETTINGS_FIELDS)
    context = {"form": form, "company_only": True, "source": source, "settings_open": settings_open}
    return render(request, "crm/signup.html", context)


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return _company_signup(request)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not _signup_password_ok(request, email=data["admin_email"], password=data["admin_password"]):
            form.add_error(
                "admin_password",
                _("This email already has an account; enter its password.")
                if not getattr(request, "axes_locked_out", False)
                else _("Too many failed attempts. Wait a few minutes and try again."),
            )
            return render(request, "crm/signup.html", {"form": form})
        try:
            tenant = services.tenant_create(
                slug=data["slug"],
                name=data["company_name"],
                time_zone=data["time_zone"],
                currency=data["currency"],
                default_locale=data["default_locale"],
                admin_email=data["admin_email"],
                admin_password=data["admin_password"],
                admin_name=data["admin_name"],
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            user = services.user_for_email(email=data["admin_email"])
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome to %(company)s.") % {"company": tenant.name})
            return redirect("crm:tenant-home", slug=tenant.slug)
    return render(request, "crm/signup.html", {"form": form})


@tenant_member_required
def tenant_home(request: TenantHttpRequest, slug: str) -> HttpResponse:
    data = home_data(tenant=request.tenant, membership=request.membership)
    return render(request, "crm/tenant_home.html", {"tenant": request.tenant, "home": data})


@tenant_admin_required
def member_list(request: TenantHttpRequest, slug: str) -> HttpResponse:
    form = InviteForm(request.POST or None)
    invitation_link = None
    if request.method == "POST" and form.is_valid():
        try:
            membership, invitation = services.member_invite(
                tenant=request.tenant,
                actor=request.user,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                team_name=form.cleaned_data["team"],
                base_url=request.build_absolute_uri("/"),
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            invitation_link = services.invitation_url(
                invitation, request.tenant, base_url=request.build_absolute_uri("/")
            )
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": membership.user.email})
            form = InviteForm()
    context = {
        "form": form,
        "members": selectors.member_list(tenant=request.tenant),
        "invitation_link": invitation_link,
        "open_invitations": {
            inv.membership_id: services.invitation_url(
                inv, request.tenant, base_url=request.build_absolute_uri("/")
            )
            for inv in selectors.open_invitations(tenant=request.tenant)
        },
    }
    return render(request, "crm/member_list.html", context)


@tenant_admin_required
def member_edit(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    try:
        membership = selectors.membership_get(tenant=request.tenant, pk=pk)
    except Membership.DoesNotExist as exc:
        raise Http404 from exc
    form = MembershipForm.for_membership(membership, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.membership_update(
                tenant=request.tenant,
                actor=request.user,
                membership=membership,
                role=form.cleaned_data["role"],
                team_name=form.cleaned_data["team"],
                status=form.cleaned_data["status"],
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("crm:member-list", slug=slug)
    return render(request, "crm/member_edit.html", {"form": form, "membership": membership})


@tenant_admin_required
def tenant_settings(request: TenantHttpRequest, slug: str) -> HttpResponse:
    tenant = request.tenant
    form = TenantSettingsForm(request.POST or None, instance=tenant)
    if request.method == "POST" and form.is_valid():
        try:
            services.tenant_update_settings(tenant=tenant, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("crm:tenant-settings", slug=slug)
    return render(request, "crm/tenant_settings.html", {"form": form})


def invitation_accept(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """Open to non-members: the invitation itself is the credential, looked up inside its tenant."""
    tenant = Tenant.objects.filter(slug=slug, is_active=True).first()
    if tenant is None:
        raise Http404
    with tenant_context(tenant):
        try:
            invitation = selectors.invitation_by_token(tenant=tenant, token=token)
        except Invitation.DoesNotExist as exc:
            raise Http404 from exc
        invitee = invitation.membership.user
        needs_password = not invitee.has_usable_password()
        form = AcceptInvitationForm(request.POST or None) if needs_password else None
        error = None
        if request.method == "POST" and (form is None or form.is_valid()):
            try:
                services.invitation_accept(
                    tenant=tenant,
                    invitation=invitation,
                    user=tenant_request(request).user if request.user.is_authenticated else None,
                    full_name=form.cleaned_data["full_name"] if form else "",
                    password=form.cleaned_data["password"] if form else None,
                )
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                if not request.user.is_authenticated:
                    login(request, invitee, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(request, _("Welcome to %(company)s.") % {"company": tenant.name})
                return redirect("crm:tenant-home", slug=tenant.slug)
        context = {
            "tenant_name": tenant.name,
            "invitation": invitation,
            "form": form,
            "error": error,
            "invitee": invitee,
        }
        return render(request, "crm/invitation_accept.html", context)


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the language; saved on the user so it follows them to every device."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    response = redirect(next_url)
    if language in dict(settings.LANGUAGES):
        if request.user.is_authenticated:
            services.user_set_language(user=tenant_request(request).user, language=language)
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax")
    return response


@login_required
def no_tenant(request: HttpRequest) -> HttpResponse:
    return render(request, "crm/no_tenant.html")


def healthz(request: HttpRequest) -> JsonResponse:
    report = health.report()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


def switch_tenant(request: HttpRequest) -> HttpResponse:
    slug = request.GET.get("to", "")
    try:
        return redirect(reverse("crm:tenant-home", kwargs={"slug": slug}))
    except NoReverseMatch:  # empty or not a slug at all
        return redirect("crm:home")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: a URL under /api/ that matches no route (`/api/v1/t/acme/leads/abc/`) answers the API's JSON
    404, as a route that finds no record does; pages keep the 404 page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(NotFound.default_detail)}, status=404)
    return defaults.page_not_found(request, exception)
