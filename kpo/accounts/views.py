"""Signing in and out, changing one's password, and the dashboard every user lands on."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse_lazy
from django.views.decorators.http import require_GET

from deliverables.choices import OPEN_STATUSES
from kpo.accounts import selectors
from kpo.accounts.choices import Role

from .forms import PasswordChangeForm, SignInForm

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


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        messages.success(self.request, f"Signed in as {user.get_full_name() or user.username}.")
        return response


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
