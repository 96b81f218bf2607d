"""HTML pages of the provider relationship: the provider directory and scorecards (with a
side-by-side comparison for client admins), a client's vendor approvals, and a provider's
analyst teams.

Scorecard figures come from `vendors.selectors.provider_scorecard`, computed only from the
engagements the user may see; every change goes through `vendors.services`.
"""

from datetime import timedelta
from types import SimpleNamespace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from deliverables.choices import OPEN_STATUSES
from deliverables.models import Deliverable
from engagements.choices import CLOSED_STATUSES
from engagements.models import Engagement
from kpo.access import policy
from kpo.domain import BusinessRuleViolation
from kpo.web import apply_form_error, domain_action, visible_or_404

from . import charts, services
from .choices import ENGAGEABLE_APPROVALS
from .forms import (
    COMPARE_LIMIT,
    CompareForm,
    TeamForm,
    TeamLeadForm,
    TeamMemberForm,
    TeamMemberRemoveForm,
    TeamRenameForm,
    VendorApprovalForm,
)
from .models import Certification
from .selectors import own_approvals, own_teams, provider_scorecard, providers_for

EXPIRY_WARNING_DAYS = 30
# A large provider has thousands of engagements with one client: the page shows the busiest
# few; the figures above them, and the API, still cover every one.
SCORECARD_ENGAGEMENTS_SHOWN = 25


# -- what each organisation may read of its own -------------------------------------------


def _certifications(lookup="certifications"):
    return Prefetch(lookup, queryset=Certification.objects.order_by("kind", "-expires_on"))


def _expiry(day, today):
    """How close a date of expiry is: "expired", "soon" (within 30 days) or "valid"."""
    if day is None:
        return "none"
    if day < today:
        return "expired"
    if day <= today + timedelta(days=EXPIRY_WARNING_DAYS):
        return "soon"
    return "valid"


def _mark_certifications(providers, today):
    for provider in providers:
        for certification in provider.certifications.all():
            certification.expiry = _expiry(certification.expires_on, today)


# -- directory, scorecard, comparison -----------------------------------------------------


@login_required
@require_GET
def directory(request):
    user = request.user
    today = timezone.localdate()
    providers = list(providers_for(user).prefetch_related(_certifications()).order_by("name", "pk"))
    _mark_certifications(providers, today)
    approvals = {approval.provider_id: approval for approval in own_approvals(user)}
    for provider in providers:
        approval = approvals.get(provider.pk)
        if approval is not None:
            approval.expiry = _expiry(approval.expires_on, today)
        provider.approval = approval
    context = {
        "providers": providers,
        "can_compare": policy.role_may(user, "vendor_approvals"),
        "can_assess": policy.role_may(user, "vendor_approvals"),
    }
    return render(request, "vendors/directory.html", context)


@login_required
@require_GET
def scorecard(request, pk):
    user = request.user
    provider = visible_or_404(providers_for(user).prefetch_related(None), pk=pk)
    card = provider_scorecard(user, provider)
    months = charts.monthly_figures(user, provider)
    busiest = sorted(
        card["by_engagement"], key=lambda row: row["deliverables_delivered"], reverse=True
    )[:SCORECARD_ENGAGEMENTS_SHOWN]
    context = {
        "provider": provider,
        "card": card,
        "engagements_shown": busiest,
        "months": [m for m in months if m["delivered"] or m["accepted"]],
        "over_time_chart": charts.over_time_chart(months),
        "per_engagement_chart": charts.per_engagement_chart(busiest),
        "can_compare": policy.role_may(user, "vendor_approvals"),
    }
    return render(request, "vendors/scorecard.html", context)


@login_required
@require_GET
def compare(request):
    user = request.user
    if not policy.role_may(user, "vendor_approvals"):
        raise PermissionDenied("Only client admins compare providers.")
    form = CompareForm(request.GET or None, user=user)
    chosen = []
    if form.is_bound and form.is_valid():
        chosen = list(form.cleaned_data["providers"])
    elif not form.is_bound:
        # Start with the providers the client has assessed, as far as they fit, ticked.
        assessed = own_approvals(user).values("provider_id")
        chosen = list(providers_for(user).filter(pk__in=assessed).order_by("name")[:COMPARE_LIMIT])
        form = CompareForm(initial={"providers": [p.pk for p in chosen]}, user=user)
    # At most COMPARE_LIMIT scorecards, each a fixed number of grouped queries.
    scorecards = [(provider, provider_scorecard(user, provider)) for provider in chosen]
    context = {
        "form": form,
        "scorecards": scorecards,
        "chart": charts.comparison_chart(scorecards) if len(scorecards) > 1 else "",
        "limit": COMPARE_LIMIT,
    }
    return render(request, "vendors/compare.html", context, status=400 if form.errors else 200)


# -- vendor approvals ---------------------------------------------------------------------


def _require_approvals(user):
    if not policy.role_may(user, "vendor_approvals"):
        raise PermissionDenied("Only client admins manage vendor approvals.")


@login_required
@require_GET
def approvals(request):
    user = request.user
    _require_approvals(user)
    today = timezone.localdate()
    rows = list(
        own_approvals(user)
        .select_related("provider", "decided_by")
        .prefetch_related(_certifications("provider__certifications"))
        .order_by("provider__name")
    )
    for approval in rows:
        approval.expiry = _expiry(approval.expires_on, today)
        approval.in_force = approval.status in ENGAGEABLE_APPROVALS and approval.expiry != "expired"
    _mark_certifications([approval.provider for approval in rows], today)
    unassessed = list(
        providers_for(user)
        .exclude(pk__in=own_approvals(user).values("provider_id"))
        .prefetch_related(_certifications())
        .order_by("name")
    )
    _mark_certifications(unassessed, today)
    context = {"approvals": rows, "unassessed": unassessed}
    return render(request, "vendors/approvals.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def approval_create(request):
    user = request.user
    _require_approvals(user)
    assessed = own_approvals(user).values("provider_id")
    initial = {"provider": request.GET.get("provider")} if request.method == "GET" else None
    # Bound on any POST, even one without form fields: answered with the form's errors.
    form = VendorApprovalForm(
        request.POST if request.method == "POST" else None,
        user=user,
        assessed_providers=assessed,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        provider = values.pop("provider")
        try:
            services.vendor_approval_create(actor=user, provider=provider, **values)
        except BusinessRuleViolation as error:
            apply_form_error(form, error)
        else:
            messages.success(request, f"Your assessment of {provider} was recorded.")
            return redirect("vendors:approvals")
    status = 400 if form.is_bound else 200
    return render(request, "vendors/approval_form.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def approval_edit(request, pk):
    user = request.user
    _require_approvals(user)
    approval = visible_or_404(own_approvals(user).select_related("provider"), pk=pk)
    form = VendorApprovalForm(
        request.POST if request.method == "POST" else None, user=user, approval=approval
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.vendor_approval_update(actor=user, approval=approval, **form.cleaned_data)
        except BusinessRuleViolation as error:
            apply_form_error(form, error)
        else:
            messages.success(request, f"Your assessment of {approval.provider} was saved.")
            return redirect("vendors:approvals")
    status = 400 if form.is_bound else 200
    context = {"form": form, "approval": approval}
    return render(request, "vendors/approval_form.html", context, status=status)


# -- analyst teams --------------------------------------------------------------------------


def _require_team_admin(user):
    if not policy.role_may(user, "manage_teams"):
        raise PermissionDenied("Only provider admins manage teams.")


def _team_load(user):
    """Per team: open deliverables and open engagements it works on; per person: open
    deliverables assigned. Three grouped queries, whatever the number of teams."""
    teams = own_teams(user).values("pk")
    open_work = Deliverable.objects.restrict(user, "view").filter(status__in=OPEN_STATUSES)
    deliverables = dict(
        open_work.filter(engagement__teams__in=teams)
        .values_list("engagement__teams")
        .annotate(count=Count("pk"))
        .order_by()
    )
    engagements = dict(
        Engagement.objects.restrict(user, "view")
        .exclude(status__in=CLOSED_STATUSES)
        .filter(teams__in=teams)
        .values_list("teams")
        .annotate(count=Count("pk"))
        .order_by()
    )
    assigned = dict(
        open_work.filter(assignee__provider_id=user.provider_id)
        .values_list("assignee")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return SimpleNamespace(deliverables=deliverables, engagements=engagements, assigned=assigned)


def _teams_page(request, form, status=200):
    user = request.user
    teams = list(
        own_teams(user).select_related("lead").prefetch_related("members").order_by("name", "pk")
    )
    load = _team_load(user)
    for team in teams:
        team.open_deliverables = load.deliverables.get(team.pk, 0)
        team.open_engagements = load.engagements.get(team.pk, 0)
        team.people = sorted(team.members.all(), key=lambda person: str(person).lower())
        for person in team.people:
            person.open_deliverables = load.assigned.get(person.pk, 0)
    context = {"teams": teams, "form": form}
    return render(request, "vendors/teams.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def teams(request):
    user = request.user
    _require_team_admin(user)
    form = TeamForm(
        request.POST if request.method == "POST" else None, provider_id=user.provider_id
    )
    if request.method == "POST":
        if form.is_valid():
            try:
                team = services.team_create(actor=user, **form.cleaned_data)
            except BusinessRuleViolation as error:
                apply_form_error(form, error)
            else:
                messages.success(request, f"The team {team.name} was created.")
                return redirect("vendors:team_edit", pk=team.pk)
        return _teams_page(request, form, status=400)
    return _teams_page(request, form)


TEAM_OPERATIONS = ("rename", "set_lead", "add_member", "remove_member")


@login_required
@require_http_methods(["GET", "POST"])
@domain_action
def team_edit(request, pk):
    user = request.user
    team = visible_or_404(own_teams(user).select_related("lead", "provider"), pk=pk)
    _require_team_admin(user)
    members = sorted(team.members.all(), key=lambda person: str(person).lower())
    member_ids = [person.pk for person in members]
    forms = {
        "rename": TeamRenameForm(initial={"name": team.name}, prefix="rename"),
        "set_lead": TeamLeadForm(team=team, prefix="lead"),
        "add_member": TeamMemberForm(team=team, exclude_ids=member_ids, prefix="add"),
    }
    status = 200
    if request.method == "POST":
        operation = request.POST.get("operation")
        if operation not in TEAM_OPERATIONS:
            messages.error(request, "That change is not one this page makes.")
            return redirect("vendors:team_edit", pk=team.pk)
        done, form = _team_change(request, team, operation, member_ids)
        if done:
            messages.success(request, done)
            return redirect("vendors:team_edit", pk=team.pk)
        if form is None:
            return redirect("vendors:team_edit", pk=team.pk)
        forms[operation] = form
        status = 400
    load = _team_load(user)
    for person in members:
        person.open_deliverables = load.assigned.get(person.pk, 0)
    context = {
        "team": team,
        "members": members,
        "open_deliverables": load.deliverables.get(team.pk, 0),
        "open_engagements": load.engagements.get(team.pk, 0),
        "rename_form": forms["rename"],
        "lead_form": forms["set_lead"],
        "member_form": forms["add_member"],
    }
    return render(request, "vendors/team_edit.html", context, status=status)


def _team_change(request, team, operation, member_ids):
    """Apply one change to the team. Returns (success message, None), or (None, the bound form
    with its errors), or (None, None) when a message already says what went wrong."""
    user = request.user
    if operation == "rename":
        form = TeamRenameForm(request.POST, prefix="rename")
        if not form.is_valid():
            return None, form
        try:
            team = services.team_rename(actor=user, team=team, name=form.cleaned_data["name"])
        except BusinessRuleViolation as error:
            apply_form_error(form, error)
            return None, form
        return f"The team is now called {team.name}.", None
    if operation == "set_lead":
        form = TeamLeadForm(request.POST, team=team, prefix="lead")
        if not form.is_valid():
            return None, form
        lead = form.cleaned_data["lead"]
        services.team_set_lead(actor=user, team=team, lead=lead)
        return (f"{lead} now leads {team.name}." if lead else f"{team.name} has no lead now."), None
    if operation == "add_member":
        form = TeamMemberForm(request.POST, team=team, exclude_ids=member_ids, prefix="add")
        if not form.is_valid():
            return None, form
        person = form.cleaned_data["user"]
        services.team_add_member(actor=user, team=team, user=person)
        return f"{person} joined {team.name} and sees its engagements.", None
    form = TeamMemberRemoveForm(request.POST, team=team)
    if not form.is_valid():
        messages.error(request, "That person is not in your firm.")
        return None, None
    person = form.cleaned_data["user"]
    services.team_remove_member(actor=user, team=team, user=person)
    return f"{person} left {team.name} and no longer sees its engagements.", None
