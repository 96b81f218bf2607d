"""HTML pages of engagements: the list, the terms form, and the detail page with its tabs
(overview, deliverables timeline, data room, activity) and the forms behind its buttons.

Every read goes through the access module (`restrict`) or a selector built on it, so an
engagement of another tenant answers 404 exactly like a missing one. Every change goes through
`engagements.services` (or `deliverables.services` for planning). A button is offered only when
the user's role and the engagement's state allow it; a form posted from a stale page is still
judged by the service, and its refusal comes back as a message (`kpo.web.domain_action`).
"""

from collections.abc import Callable
from types import SimpleNamespace
from typing import NamedTuple

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deliverables import services as deliverable_services
from deliverables.models import Deliverable
from kpo.access import policy
from kpo.access.models import EngagementUserObjectPermission
from kpo.audit.exports import csv_lines
from kpo.audit.models import AuditEvent
from kpo.domain import BusinessRuleViolation, InvalidTransition
from kpo.web import apply_form_error, domain_action, visible_or_404
from vendors.models import AnalystTeam
from vendors.selectors import providers_for

from . import services
from .choices import CLOSED_STATUSES, ENGAGEMENT_ACTIONS, EngagementStatus
from .filtersets import EngagementFilterSet
from .forms import (
    DocumentUploadForm,
    EngagementForm,
    GrantAccessForm,
    LeadForm,
    PlanDeliverableForm,
    RevokeAccessForm,
    TeamsForm,
    TransitionForm,
)
from .models import Document, Engagement

LIST_PAGE_SIZE = 25
TIMELINE_PAGE_SIZE = 50
DOCUMENTS_PAGE_SIZE = 50
ACTIVITY_PAGE_SIZE = 50

TABS = {
    "overview": "Overview",
    "deliverables": "Deliverables",
    "documents": "Data room",
    "activity": "Activity",
}


class Transition(NamedTuple):
    """A lifecycle button: the service behind it, the role-table action it needs, its label,
    what the success message says, whether the service records a reason, and whether it is
    destructive (asked for again, with the reason, before it is sent)."""

    service: Callable
    needs: str
    label: str
    done: str
    with_reason: bool = False
    destructive: bool = False


TRANSITIONS = {
    "propose": Transition(
        services.engagement_propose, "manage", "Propose to provider", "was proposed to {provider}"
    ),
    "accept": Transition(
        services.engagement_accept, "respond", "Accept proposal", "was accepted; it is now active"
    ),
    "decline": Transition(
        services.engagement_decline,
        "respond",
        "Decline",
        "was declined; it is a draft again",
        with_reason=True,
        destructive=True,
    ),
    "hold": Transition(
        services.engagement_hold, "manage", "Put on hold", "is on hold", with_reason=True
    ),
    "resume": Transition(services.engagement_resume, "manage", "Resume", "is active again"),
    "complete": Transition(
        services.engagement_complete, "manage", "Mark completed", "is completed"
    ),
    "terminate": Transition(
        services.engagement_terminate,
        "manage",
        "Terminate",
        "was terminated",
        with_reason=True,
        destructive=True,
    ),
}


# -- reads ----------------------------------------------------------------------------------


def _visible(user):
    return Engagement.objects.restrict(user, "view")


def _engagement(user, pk, tab="overview"):
    """The engagement with everything its header and the tab show, or 404."""
    engagements = _visible(user).select_related(
        "client", "provider", "service_line", "client_manager", "provider_lead"
    )
    if tab == "overview":
        engagements = engagements.prefetch_related(
            Prefetch(
                "teams",
                queryset=AnalystTeam.objects.select_related("lead")
                .prefetch_related("members")
                .order_by("name"),
            ),
            Prefetch(
                "user_grants",
                queryset=EngagementUserObjectPermission.objects.filter(
                    permission__codename=policy.VIEW_PERMISSION
                ).select_related("user"),
            ),
        )
    return visible_or_404(engagements, pk=pk)


def _bare_engagement(user, pk):
    """For the action views: the engagement (with the parties its audit events name), or 404."""
    return visible_or_404(_visible(user).select_related("client", "provider"), pk=pk)


def _abilities(user, engagement):
    """What the page offers. The engagement was read through `restrict(user, "view")`, so
    `policy.can(user, action, engagement)` is the role table's answer here; asking the role
    table directly spares one visibility query per button."""
    may = {
        action: policy.role_may(user, action)
        for action in (
            "manage",
            "respond",
            "assign_lead",
            "assign_teams",
            "plan",
            "upload_document",
            "read_audit",
        )
    }
    is_open = engagement.status not in CLOSED_STATUSES
    lifecycle = []
    for name, button in TRANSITIONS.items():
        sources, _target = ENGAGEMENT_ACTIONS[name]
        if may[button.needs] and engagement.status in sources:
            lifecycle.append(SimpleNamespace(name=name, **button._asdict()))
    return SimpleNamespace(
        lifecycle=lifecycle,
        edit=may["manage"] and is_open,
        share=may["manage"],
        assign_lead=may["assign_lead"] and is_open,
        assign_teams=may["assign_teams"] and is_open,
        plan=may["plan"] and is_open,
        upload=may["upload_document"] and is_open,
        read_audit=may["read_audit"],
    )


def _client_colleagues_with_access(user, engagement):
    """Colleagues of the client granted this engagement one by one (client users only: the
    provider staffs its side through its lead and teams)."""
    if user.client_id != engagement.client_id:
        return []
    people = [
        grant.user
        for grant in engagement.user_grants.all()
        if grant.user.client_id == engagement.client_id
    ]
    return sorted(people, key=lambda person: (person.get_full_name() or person.username).lower())


def _overview(request, engagement, can):
    colleagues = _client_colleagues_with_access(request.user, engagement)
    return {
        "colleagues": colleagues,
        "grant_form": GrantAccessForm(
            engagement=engagement, granted_ids=[person.pk for person in colleagues]
        )
        if can.share
        else None,
        "lead_form": LeadForm(engagement=engagement) if can.assign_lead else None,
        "teams_form": TeamsForm(engagement=engagement) if can.assign_teams else None,
    }


def _deliverables(request, engagement, can, plan_form=None):
    timeline = (
        Deliverable.objects.restrict(request.user, "view")
        .filter(engagement=engagement)
        .select_related("assignee")
        .order_by("due_at", "id")
    )
    page = Paginator(timeline, TIMELINE_PAGE_SIZE).get_page(request.GET.get("page"))
    if can.plan and plan_form is None:
        plan_form = PlanDeliverableForm(engagement=engagement)
    return {"page": page, "plan_form": plan_form if can.plan else None, "now": timezone.now()}


def _documents(request, engagement, can, upload_form=None):
    documents = (
        Document.objects.restrict(request.user, "view")
        .filter(engagement=engagement)
        .select_related("uploaded_by")
        .order_by("-uploaded_at", "-id")
    )
    page = Paginator(documents, DOCUMENTS_PAGE_SIZE).get_page(request.GET.get("page"))
    if can.upload and upload_form is None:
        upload_form = DocumentUploadForm()
    return {"page": page, "upload_form": upload_form if can.upload else None}


def _activity(request, engagement, can):
    """The newest events, then older ones page by page: keyset on the id (the trail is
    append-only and long, so no count and no offset)."""
    if not can.read_audit:
        raise PermissionDenied("Your role does not include the audit trail.")
    events = AuditEvent.objects.restrict(request.user, "read_audit").filter(engagement=engagement)
    before = request.GET.get("before", "")
    if before.isdigit():
        events = events.filter(pk__lt=int(before))
    rows = list(events.order_by("-id")[: ACTIVITY_PAGE_SIZE + 1])
    has_older = len(rows) > ACTIVITY_PAGE_SIZE
    rows = rows[:ACTIVITY_PAGE_SIZE]
    for event in rows:
        event.changes_text = _changes_text(event.changes)
    here = f"{_detail_url(engagement)}?tab=activity"
    paged = before.isdigit()
    return {
        "events": rows,
        "newer_url": here if paged else "",
        "older_url": f"{here}&before={rows[-1].pk}" if has_older else "",
        "activity_summary": "Earlier events" if paged else "The newest events",
    }


def _changes_text(changes) -> str:
    if not changes:
        return ""
    parts = []
    for field, value in changes.items():
        if isinstance(value, list) and len(value) == 2:
            parts.append(f"{field}: {value[0]} → {value[1]}")
        else:
            parts.append(f"{field}: {value}")
    return "; ".join(parts)


TAB_BUILDERS = {
    "overview": _overview,
    "deliverables": _deliverables,
    "documents": _documents,
    "activity": _activity,
}


def _render_detail(request, engagement, tab, status=200, **forms):
    can = _abilities(request.user, engagement)
    tabs = {name: label for name, label in TABS.items() if name != "activity" or can.read_audit}
    context = {
        "engagement": engagement,
        "can": can,
        "tab": tab,
        "tabs": tabs,
        **TAB_BUILDERS[tab](request, engagement, can, **forms),
    }
    partial = (
        request.htmx
        and not request.htmx.history_restore_request
        and request.htmx.target == "engagement-tabs"
    )
    template = "engagements/_tabs.html" if partial else "engagements/detail.html"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


# -- pages ----------------------------------------------------------------------------------


def _filterset(request, queryset):
    """The API's filterset, with choices narrowed to what this user may see."""
    user = request.user
    filterset = EngagementFilterSet(request.GET or None, queryset=queryset, request=request)
    form = filterset.form
    form.fields["provider"].queryset = providers_for(user).prefetch_related(None).order_by("name")
    form.fields["provider"].empty_label = "All providers"
    form.fields["service_line"].empty_label = "All service lines"
    # A ChoiceField builds its blank option from the choices it is given.
    form.fields["status"].choices = [("", "All statuses"), *EngagementStatus.choices]
    # The client filter exists for the API; here it only ever narrows to the user's own.
    form.fields["client"].queryset = form.fields["client"].queryset.filter(
        pk__in=queryset.values("client_id")
    )
    return filterset


@login_required
@require_GET
def engagement_list(request):
    user = request.user
    engagements = (
        _visible(user)
        .select_related("client", "provider", "service_line", "client_manager")
        .order_by("-created_at", "-id")
    )
    filterset = _filterset(request, engagements)
    page = Paginator(filterset.qs, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    filtered = any(request.GET.get(name) for name in ("status", "provider", "service_line"))
    context = {
        "filter": filterset,
        "page": page,
        "filtered": filtered,
        "can_create": policy.role_may(user, "create_engagement"),
        "show_provider": not user.provider_id,
        "show_client": not user.client_id,
    }
    partial = (
        request.htmx
        and not request.htmx.history_restore_request
        and request.htmx.target == "engagement-results"
    )
    template = "engagements/_list_results.html" if partial else "engagements/list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
@require_http_methods(["GET", "POST"])
def engagement_create(request):
    user = request.user
    if not policy.role_may(user, "create_engagement"):
        raise PermissionDenied("Only client admins and managers create engagements.")
    # Bound on any POST, even one without form fields (a script's JSON, say): it is answered
    # with the form's errors, not with an empty form as if nothing had been sent.
    form = EngagementForm(request.POST if request.method == "POST" else None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            engagement = services.engagement_create(actor=user, **form.service_values())
        except BusinessRuleViolation as error:
            apply_form_error(form, error)
        else:
            messages.success(
                request,
                f"{engagement.reference} was created as a draft. Plan its deliverables, "
                "then propose it to the provider.",
            )
            return redirect("engagements:detail", pk=engagement.pk)
    status = 400 if form.is_bound else 200
    return render(request, "engagements/form.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def engagement_edit(request, pk):
    user = request.user
    engagement = visible_or_404(
        _visible(user).select_related("client", "provider", "service_line", "client_manager"),
        pk=pk,
    )
    if not policy.role_may(user, "manage"):
        raise PermissionDenied("Only the client's admins and managers change the terms.")
    if engagement.status in CLOSED_STATUSES:
        messages.error(
            request,
            f"{engagement.reference} is {engagement.get_status_display().lower()}; "
            "its terms can no longer be changed.",
        )
        return redirect("engagements:detail", pk=engagement.pk)
    form = EngagementForm(
        request.POST if request.method == "POST" else None, user=user, engagement=engagement
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.engagement_update(actor=user, engagement=engagement, **form.service_values())
        except BusinessRuleViolation as error:
            apply_form_error(form, error)
        except InvalidTransition as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"The terms of {engagement.reference} were saved.")
            return redirect("engagements:detail", pk=engagement.pk)
    status = 400 if form.is_bound else 200
    context = {"form": form, "engagement": engagement}
    return render(request, "engagements/form.html", context, status=status)


@login_required
@require_GET
def engagement_detail(request, pk):
    tab = request.GET.get("tab", "overview")
    if tab not in TABS:
        tab = "overview"
    engagement = _engagement(request.user, pk, tab)
    return _render_detail(request, engagement, tab)


# -- actions --------------------------------------------------------------------------------


def _detail_url(engagement, tab=None):
    url = reverse("engagements:detail", args=[engagement.pk])
    return f"{url}?tab={tab}" if tab else url


def _after_action(request, engagement, tab=None):
    """Back to the engagement, or to the list when the action took it out of the user's sight
    (a provider no longer sees a proposal it declined)."""
    if _visible(request.user).filter(pk=engagement.pk).exists():
        return redirect(_detail_url(engagement, tab))
    return redirect("engagements:list")


@login_required
@require_POST
@domain_action
def engagement_transition(request, pk, action):
    if action not in TRANSITIONS:
        raise Http404("No such action.")
    engagement = _bare_engagement(request.user, pk)
    button = TRANSITIONS[action]
    extra = {}
    if button.with_reason:
        form = TransitionForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Keep the reason under 2,000 characters.")
            return redirect(_detail_url(engagement))
        extra["reason"] = form.cleaned_data["reason"]
    engagement = button.service(actor=request.user, engagement=engagement, **extra)
    done = button.done.format(provider=engagement.provider)
    messages.success(request, f"{engagement.reference} {done}.")
    return _after_action(request, engagement)


@login_required
@require_POST
@domain_action
def assign_lead(request, pk):
    engagement = _bare_engagement(request.user, pk)
    policy.require(request.user, "assign_lead", engagement)
    form = LeadForm(request.POST, engagement=engagement)
    if not form.is_valid():
        messages.error(request, "Choose a lead from the list: an engagement lead of your firm.")
        return redirect(_detail_url(engagement))
    lead = form.cleaned_data["lead"]
    services.engagement_assign_lead(actor=request.user, engagement=engagement, lead=lead)
    if lead is None:
        messages.success(request, f"{engagement.reference} has no lead now.")
    else:
        messages.success(request, f"{lead} now leads {engagement.reference}.")
    return _after_action(request, engagement)


@login_required
@require_POST
@domain_action
def set_teams(request, pk):
    engagement = _bare_engagement(request.user, pk)
    policy.require(request.user, "assign_teams", engagement)
    form = TeamsForm(request.POST, engagement=engagement)
    if not form.is_valid():
        messages.error(request, "Choose teams from the list: teams of your firm.")
        return redirect(_detail_url(engagement))
    teams = list(form.cleaned_data["teams"])
    services.engagement_set_teams(actor=request.user, engagement=engagement, teams=teams)
    names = ", ".join(team.name for team in teams) or "no team"
    messages.success(request, f"{engagement.reference} is staffed by {names}.")
    return _after_action(request, engagement)


@login_required
@require_POST
@domain_action
def grant_access(request, pk):
    engagement = _bare_engagement(request.user, pk)
    policy.require(request.user, "manage", engagement)
    form = GrantAccessForm(request.POST, engagement=engagement)
    if not form.is_valid():
        messages.error(request, "Choose a manager or viewer of your organisation.")
        return redirect(_detail_url(engagement))
    person = form.cleaned_data["user"]
    services.engagement_grant_access(actor=request.user, engagement=engagement, user=person)
    messages.success(request, f"{person} can now see {engagement.reference}.")
    return _after_action(request, engagement)


@login_required
@require_POST
@domain_action
def revoke_access(request, pk):
    engagement = _bare_engagement(request.user, pk)
    policy.require(request.user, "manage", engagement)
    form = RevokeAccessForm(request.POST, engagement=engagement)
    if not form.is_valid():
        messages.error(request, "That person is not a colleague of your organisation.")
        return redirect(_detail_url(engagement))
    person = form.cleaned_data["user"]
    services.engagement_revoke_access(actor=request.user, engagement=engagement, user=person)
    messages.success(request, f"{person} no longer sees {engagement.reference}.")
    return _after_action(request, engagement)


@login_required
@require_POST
@domain_action
def plan_deliverable(request, pk):
    user = request.user
    engagement = _engagement(user, pk, "deliverables")
    policy.require(user, "plan", engagement)
    form = PlanDeliverableForm(request.POST, engagement=engagement)
    if form.is_valid():
        try:
            deliverable = deliverable_services.deliverable_plan(
                actor=user, engagement=engagement, **form.cleaned_data
            )
        except BusinessRuleViolation as error:
            apply_form_error(form, error)
        else:
            messages.success(request, f"“{deliverable.title}” was added to the timeline.")
            return redirect(_detail_url(engagement, "deliverables"))
    return _render_detail(request, engagement, "deliverables", status=400, plan_form=form)


@login_required
@require_POST
@domain_action
def document_upload(request, pk):
    user = request.user
    engagement = _engagement(user, pk, "documents")
    policy.require(user, "upload_document", engagement)
    form = DocumentUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            document = services.document_upload(
                actor=user, engagement=engagement, **form.cleaned_data
            )
        except BusinessRuleViolation as error:
            apply_form_error(form, error)
        else:
            messages.success(request, f"“{document.title}” was added to the data room.")
            return redirect(_detail_url(engagement, "documents"))
    return _render_detail(request, engagement, "documents", status=400, upload_form=form)


@login_required
@require_GET
@domain_action
def document_download(request, pk):
    document = visible_or_404(
        Document.objects.restrict(request.user, "view").select_related(
            "engagement__client", "engagement__provider"
        ),
        pk=pk,
    )
    handle = services.document_download(actor=request.user, document=document)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=document.filename,
        content_type=document.content_type,
    )


@login_required
@require_GET
@domain_action
def audit_csv(request, pk):
    engagement = _bare_engagement(request.user, pk)
    events = services.engagement_export_audit(actor=request.user, engagement=engagement)

    response = StreamingHttpResponse(csv_lines(events), content_type="text/csv; charset=utf-8")
    filename = f"{engagement.reference}-audit-{timezone.localdate():%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
