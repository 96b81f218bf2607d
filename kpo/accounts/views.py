"""Signing in (password, then a code for two-factor users) and out, the account security page
(password, two-factor sign-in, API token), and the dashboard every user lands on."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.generic import FormView
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from deliverables.choices import OPEN_STATUSES
from kpo.accounts import selectors
from kpo.accounts.choices import Role
from kpo.domain import BusinessRuleViolation

from . import services, two_factor
from .forms import (
    PasswordChangeForm,
    PasswordConfirmForm,
    SignInForm,
    TwoFactorCodeForm,
    TwoFactorEnrolForm,
)

# Which dashboard each role lands on: (template, selector).
DASHBOARDS = {
    Role.CLIENT_ADMIN: ("dashboard/client.html", selectors.client_dashboard),
    Role.CLIENT_MANAGER: ("dashboard/client.html", selectors.client_dashboard),
    Role.CLIENT_VIEWER: ("dashboard/viewer.html", selectors.viewer_dashboard),
    Role.PROVIDER_ADMIN: ("dashboard/provider_admin.html", selectors.provider_admin_dashboard),
    Role.ENGAGEMENT_LEAD: ("dashboard/provider_work.html", selectors.provider_work_dashboard),
    Role.ANALYST: ("dashboard/provider_work.html", selectors.provider_work_dashboard),
    Role.QA_REVIEWER: ("dashboard/provider_work.html", selectors.provider_work_dashboard),
}
STAFF_DASHBOARD = ("dashboard/staff.html", selectors.staff_dashboard)


@login_required
@require_GET
def home(request):
    """The dashboard of the user's role."""
    user = request.user
    if user.is_superuser:
        template, selector = STAFF_DASHBOARD
    elif user.role in DASHBOARDS:
        template, selector = DASHBOARDS[user.role]
    else:
        # An account without a role has nothing to show (the database refuses such users
        # except platform staff); say so rather than fail.
        return render(request, "dashboard/no_role.html")
    context = selector(user)
    context["open_statuses"] = OPEN_STATUSES
    return render(request, template, context)


def _welcome(request, user):
    messages.success(request, f"Signed in as {user.get_full_name() or user.username}.")


def _safe_next(request, url: str | None, default: str) -> str:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return default


def _with_next(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


class SignInView(auth_views.LoginView):
    """The first step, the password. A user with two-factor sign-in is not signed in yet:
    the code page finishes the sign-in."""

    form_class = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if two_factor.has_device(user):
            two_factor.start_pending(self.request, user, self.get_success_url())
            return redirect("accounts:two_factor_verify")
        response = super().form_valid(form)
        if two_factor.is_required(user):
            messages.info(
                self.request,
                "Your role needs two-factor sign-in. Set it up now to continue: it takes a "
                "minute with an authenticator app on your phone.",
            )
            return redirect(_with_next("accounts:two_factor_enrol", self.get_success_url()))
        _welcome(self.request, user)
        return response


class TwoFactorVerifyView(FormView):
    """The second step: the code from the authenticator app (or a recovery code).

    Serves a session half-way through signing in (right password, no code yet), and a signed-in
    session that has yet to prove the second factor (an admin's that began before two-factor
    sign-in was required of them, say). Wrong codes count toward the same lockout as wrong
    passwords."""

    form_class = TwoFactorCodeForm
    template_name = "registration/two_factor_verify.html"
    http_method_names = ["get", "post"]

    def dispatch(self, request, *args, **kwargs):
        if request.method.lower() not in self.http_method_names:
            return self.http_method_not_allowed(request, *args, **kwargs)
        self.pending = None
        if request.user.is_authenticated:
            self.user = request.user
            if request.user.is_verified() or not two_factor.has_device(request.user):
                # Nothing to prove here (the middleware sends an admin without a device to
                # the enrolment instead).
                return redirect(self._next_url())
        else:
            self.pending = two_factor.pending(request)
            user = (
                get_user_model().objects.filter(pk=self.pending["user"], is_active=True).first()
                if self.pending
                else None
            )
            if user is None:
                return redirect_to_login(request.get_full_path())
            self.user = user
        return super().dispatch(request, *args, **kwargs)

    def _next_url(self):
        wanted = self.pending["next"] if self.pending else self.request.GET.get("next")
        return _safe_next(self.request, wanted, resolve_url(settings.LOGIN_REDIRECT_URL))

    def post(self, request, *args, **kwargs):
        if two_factor.is_locked_out(request, self.user):
            return self._end(two_factor.lockout_notice(request, self.user))
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        try:
            device = services.two_factor_verify(actor=self.user, code=form.cleaned_data["code"])
        except BusinessRuleViolation as error:
            form.add_error("code", error.message)
            response = self.form_invalid(form)
            if two_factor.count_failure(self.request, self.user):
                # django-axes answers with its lockout page; this attempt's session ends.
                return self._end(response)
            return response
        next_url = self._next_url()
        if self.pending:
            two_factor.clear_pending(self.request)
            login(self.request, self.user, backend=self.pending["backend"])
        otp_login(self.request, device)
        _welcome(self.request, self.user)
        return redirect(next_url)

    def _end(self, response):
        if self.pending:
            two_factor.clear_pending(self.request)
        else:
            logout(self.request)
        return response

    def get_context_data(self, **kwargs):
        return super().get_context_data(signing_in=self.user, **kwargs)


class SignOutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        # The session is gone; the message travels in the (signed) messages cookie.
        messages.info(request, "You have been signed out.")
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = PasswordChangeForm
    success_url = reverse_lazy("accounts:password_change_done")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password has been changed.")
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    pass


# -- the account security page --------------------------------------------------------------


def _security_page(request, *, status=200, **context):
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    context.setdefault("disable_form", PasswordConfirmForm(user=user))
    return render(
        request,
        "accounts/security.html",
        {
            "device": device,
            "recovery_left": StaticToken.objects.filter(
                device__user=user, device__confirmed=True
            ).count(),
            "required": two_factor.is_required(user),
            "token": Token.objects.filter(user=user).first(),
            **context,
        },
        status=status,
    )


@login_required
@require_GET
def security(request):
    """Password, two-factor sign-in and the API token of the signed-in user."""
    return _security_page(request)


@login_required
@require_http_methods(["GET", "POST"])
@never_cache  # the page shows a secret key, and then the recovery codes
def two_factor_enrol(request):
    """Set up two-factor sign-in: scan the QR code (or type the key) into an authenticator
    app, then confirm with the code it shows. The recovery codes are shown once, here."""
    user = request.user
    if two_factor.has_device(user):
        # Replacing a device takes turning it off first, with the password: a session that
        # has not passed the code step must not swap in an app of its own.
        messages.info(request, "Two-factor sign-in is on already.")
        return redirect("accounts:security")
    next_url = _safe_next(request, request.GET.get("next"), reverse("accounts:security"))
    form = TwoFactorEnrolForm(request.POST if request.method == "POST" else None, user=user)
    if form.is_bound and form.is_valid():
        try:
            device, codes = services.two_factor_enrol(
                actor=user, key=form.cleaned_data["key"], code=form.cleaned_data["code"]
            )
        except BusinessRuleViolation as error:
            form.add_error(error.field, error.message)
        else:
            # The code just proved the second factor: this session counts as verified.
            otp_login(request, device)
            messages.success(request, "Two-factor sign-in is on.")
            return render(
                request, "accounts/recovery_codes.html", {"codes": codes, "next_url": next_url}
            )
    # A retry keeps the key already in the app; a stale page gets a new one.
    key = (form.cleaned_data.get("key") if form.is_bound else None) or two_factor.new_key()
    uri = two_factor.provisioning_uri(user, key)
    return render(
        request,
        "accounts/two_factor_enrol.html",
        {
            "form": form,
            "signed_key": two_factor.sign_key(user, key),
            "key_text": two_factor.key_text(key),
            "otpauth_uri": uri,
            "qr_svg": two_factor.qr_svg(uri),
            "required": two_factor.is_required(user),
            "next_url": next_url,
        },
    )


@login_required
@require_POST
def two_factor_disable(request):
    """Turn two-factor sign-in off, after the password again. An admin is then asked to set
    it up anew (with another phone, say) before going anywhere else."""
    user = request.user
    form = PasswordConfirmForm(request.POST, user=user)
    if not form.is_valid():
        if two_factor.count_failure(request, user):
            logout(request)
            return two_factor.lockout_notice(request, user)
        return _security_page(request, disable_form=form)
    if services.two_factor_disable(actor=user):
        messages.success(request, "Two-factor sign-in is off. Your recovery codes no longer work.")
    else:
        messages.info(request, "Two-factor sign-in was off already.")
    return redirect("accounts:security")


@login_required
@require_POST
@never_cache
def token_create(request):
    """A new API token, shown on this one page and never again; any older one stops working."""
    token = services.token_regenerate(actor=request.user)
    return _security_page(request, new_token=token.key)


@login_required
@require_POST
def token_revoke(request):
    if services.token_revoke(actor=request.user):
        messages.success(request, "Your API token is revoked: requests that use it are refused.")
    else:
        messages.info(request, "You have no API token.")
    return redirect("accounts:security")
