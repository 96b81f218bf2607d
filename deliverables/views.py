"""HTML pages of deliverables: the detail page with its forms, the knowledge library and the
deliverable list.

Reads go through the access module (`restrict`) or selectors built on it; every change goes
through `deliverables.services`. The detail page offers a form only when the user's role and
the deliverable's state allow it; a form posted from a stale page is still judged by the
service, and its refusal comes back as a message (see `kpo.web.domain_action`).
"""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import CharField, Q
from django.db.models.functions import Cast
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil
from django.views.decorators.http import require_GET, require_POST

from engagements.choices import EngagementStatus
from engagements.models import Engagement
from kpo.access.policy import role_may
from kpo.audit.models import AuditEvent
from kpo.domain import ActionNotAllowed, BusinessRuleViolation
from kpo.web import apply_form_error, domain_action, visible_or_404

from . import services
from .choices import OPEN_STATUSES, RUBRIC, DeliverableStatus, SlaState
from .filtersets import DeliverableFilterSet
from .forms import (
    RUBRIC_LABELS,
    CancelForm,
    CommentForm,
    DeliverableEditForm,
    QaForm,
    ReviewForm,
    SubmissionForm,
)
from .models import Comment, Deliverable, Review, Submission
from .selectors import knowledge_search

PAGE_SIZE = 20
# The detail page shows the newest events; the engagement's activity tab has the full trail.
AUDIT_EVENTS_SHOWN = 50

S = DeliverableStatus


def _deliverable(user, pk):
    return visible_or_404(
        Deliverable.objects.restrict(user, "view").select_related(
            "engagement__client", "engagement__provider", "assignee"
        ),
        pk=pk,
    )


def _require_role(user, action: str) -> None:
    """The deliverable is visible (checked first, so outsiders get 404); the role may not
    be allowed to act on it."""
    if not role_may(user, action):
        raise PermissionDenied("You do not have permission to perform this action.")


def _detail_url(deliverable) -> str:
    return reverse("deliverables:detail", args=[deliverable.pk])


# -- the detail page ------------------------------------------------------------------------


def _due_phrase(deliverable, now) -> str:
    """The due time as people read it, relative to now, with the delivery outcome once known."""
    due = deliverable.due_at
    if deliverable.delivered_at is not None:
        late = deliverable.delivered_at > due
        return f"Delivered {timesince(deliverable.delivered_at, now)} ago, " + (
            f"{timesince(due, deliverable.delivered_at)} late" if late else "on time"
        )
    if deliverable.status not in OPEN_STATUSES:
        return ""
    if now > due:
        return f"Overdue by {timesince(due, now)}"
    return f"Due in {timeuntil(due, now)}"


def _review_clock(deliverable, now) -> tuple[str, bool]:
    """For a deliverable in client review: the client's time left (or how late it is)."""
    if deliverable.status != S.IN_REVIEW or deliverable.review_started_at is None:
        return "", False
    deadline = deliverable.review_started_at + timedelta(
        hours=deliverable.engagement.review_turnaround_hours
    )
    if now > deadline:
        return f"Review overdue by {timesince(deadline, now)}", True
    return f"Review due in {timeuntil(deadline, now)}", False


# Badge tone of each review decision (app.css tones).
DECISION_TONES = {
    "pass": "success",
    "accept": "success",
    "return": "warning",
    "request_changes": "warning",
    "reject": "danger",
}


def _history(submissions, reviews):
    """Submissions and reviews as one timeline, oldest first."""
    entries = [("submission", s.submitted_at, s) for s in submissions]
    entries += [("review", r.created_at, r) for r in reviews]
    entries.sort(key=lambda entry: (entry[1], 0 if entry[0] == "submission" else 1))
    return [{"kind": kind, "at": at, "item": item} for kind, at, item in entries]


def _audit_events(user, deliverable):
    """The audit events of this deliverable and of its versions and comments (whose target
    ids are text, hence the casts)."""
    if not role_may(user, "read_audit"):
        return None
    types = ContentType.objects.get_for_models(Deliverable, Submission, Comment)

    def ids_of(model):
        return (
            model.objects.restrict(user, "view")
            .filter(deliverable=deliverable)
            .values_list(Cast("pk", output_field=CharField()), flat=True)
        )

    scope = (
        Q(target_type=types[Deliverable], target_id=str(deliverable.pk))
        | Q(target_type=types[Submission], target_id__in=ids_of(Submission))
        | Q(target_type=types[Comment], target_id__in=ids_of(Comment))
    )
    events = list(
        AuditEvent.objects.restrict(user)
        .filter(scope, engagement_id=deliverable.engagement_id)
        .order_by("-id")[:AUDIT_EVENTS_SHOWN]
    )
    for event in events:
        event.summary = _summarise_changes(event.changes)
    return events


def _summarise_changes(changes) -> str:
    """An audit event's recorded change in one line: "status: in_qa → in_review; version: 2"."""
    if not isinstance(changes, dict):
        return ""
    parts = []
    for key, value in changes.items():
        if value in (None, "", {}, []):
            continue
        if key == "sha256" and isinstance(value, str):
            value = f"{value[:12]}…"
        if isinstance(value, list) and len(value) == 2:
            parts.append(f"{key}: {value[0]} → {value[1]}")
        elif isinstance(value, dict):
            parts.append(f"{key}: " + ", ".join(f"{k} {v}" for k, v in value.items()))
        else:
            parts.append(f"{key}: {value}")
    return "; ".join(parts)


def _page(request, deliverable, *, status=200, **forms):
    """Render the detail page; `forms` replaces the fresh form of a section with a bound one
    that carries errors."""
    user = request.user
    engagement = deliverable.engagement
    now = timezone.now()

    submissions = list(
        Submission.objects.restrict(user, "view")
        .filter(deliverable=deliverable)
        .select_related("submitted_by")
        .order_by("-version")
    )
    reviews = list(
        Review.objects.restrict(user, "view")
        .filter(deliverable=deliverable)
        .select_related("reviewer")
        .order_by("created_at", "id")
    )
    comments = list(
        Comment.objects.restrict(user, "view")
        .filter(deliverable=deliverable)
        .select_related("author")
        .order_by("created_at", "id")
    )
    by_submission = {}
    for review in reviews:
        by_submission.setdefault(review.submission_id, []).append(review)
    versions = {submission.pk: submission.version for submission in submissions}
    for review in reviews:
        review.version = versions.get(review.submission_id)
        review.tone = DECISION_TONES.get(review.decision, "neutral")
        scores = review.scores
        review.score_rows = (
            [(RUBRIC_LABELS[name][0], scores[name]) for name in RUBRIC] if scores else []
        )
    for submission in submissions:
        submission.review_list = by_submission.get(submission.pk, [])
    latest = submissions[0] if submissions else None

    status_now = deliverable.status
    engagement_active = engagement.status == EngagementStatus.ACTIVE
    open_ = status_now in OPEN_STATUSES

    may_submit = role_may(user, "submit")
    offer_start = may_submit and status_now == S.PLANNED and engagement_active
    offer_upload = (
        may_submit and status_now in (S.IN_PROGRESS, S.CHANGES_REQUESTED) and engagement_active
    )
    upload_blocked = ""
    if (
        may_submit
        and status_now in (S.PLANNED, S.IN_PROGRESS, S.CHANGES_REQUESTED)
        and not engagement_active
    ):
        upload_blocked = (
            f"The engagement is {engagement.get_status_display().lower()}; "
            "work can be started and submitted only while it is active."
        )

    offer_qa = False
    qa_blocked = ""
    if role_may(user, "qa") and status_now == S.IN_QA:
        if latest is not None and latest.submitted_by_id == user.pk:
            qa_blocked = (
                f"You submitted version {latest.version} yourself, so its QA is for another "
                "member of the team."
            )
        else:
            offer_qa = True

    offer_review = role_may(user, "review") and status_now == S.IN_REVIEW
    offer_plan = role_may(user, "plan") and open_

    review_clock, review_overdue = _review_clock(deliverable, now)
    context = {
        "deliverable": deliverable,
        "engagement": engagement,
        "submissions": submissions,
        "latest": latest,
        "reviews": reviews,
        "comments": comments,
        "history": _history(submissions, reviews),
        "audit_events": _audit_events(user, deliverable),
        "audit_events_shown": AUDIT_EVENTS_SHOWN,
        "due_phrase": _due_phrase(deliverable, now),
        "sla_label": f"SLA {deliverable.get_sla_state_display().lower()}",
        "review_clock": review_clock,
        "review_overdue": review_overdue,
        "open_statuses": OPEN_STATUSES,
        "threshold": engagement.quality_threshold,
        "offer_start": offer_start,
        "offer_upload": offer_upload,
        "upload_blocked": upload_blocked,
        "offer_qa": offer_qa,
        "qa_blocked": qa_blocked,
        "offer_review": offer_review,
        "offer_plan": offer_plan,
        "offer_comment": role_may(user, "comment"),
        "detail_url": _detail_url(deliverable),
    }
    if offer_upload:
        context["submission_form"] = forms.get("submission_form") or SubmissionForm()
    if offer_qa:
        context["qa_form"] = forms.get("qa_form") or QaForm()
    if offer_review:
        context["review_form"] = forms.get("review_form") or ReviewForm()
    if offer_plan:
        context["edit_form"] = forms.get("edit_form") or DeliverableEditForm(
            engagement=engagement,
            initial={"due_at": deliverable.due_at, "assignee": deliverable.assignee_id},
        )
        context["cancel_form"] = forms.get("cancel_form") or CancelForm()
    if context["offer_comment"]:
        context["comment_form"] = forms.get("comment_form") or CommentForm()
    return render(request, "deliverables/detail.html", context, status=status)


@login_required
@require_GET
def detail(request, pk):
    return _page(request, _deliverable(request.user, pk))


# -- actions ----------------------------------------------------------------------------------
# Each is POST-only. `domain_action` turns a refusal because of the current state (a stale
# page) into a message on the page the user came from; errors about the input are shown
# next to the field, with the page re-rendered around the bound form.


@login_required
@require_POST
@domain_action
def start(request, pk):
    deliverable = _deliverable(request.user, pk)
    _require_role(request.user, "submit")
    services.deliverable_start(actor=request.user, deliverable=deliverable)
    messages.success(request, "Work started. Upload a version when it is ready.")
    return redirect(_detail_url(deliverable))


@login_required
@require_POST
@domain_action
def submit(request, pk):
    deliverable = _deliverable(request.user, pk)
    _require_role(request.user, "submit")
    form = SubmissionForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            submission = services.deliverable_submit(
                actor=request.user,
                deliverable=deliverable,
                file=form.cleaned_data["file"],
                notes=form.cleaned_data["notes"],
            )
        except BusinessRuleViolation as error:
            apply_form_error(form, error)
        else:
            deliverable.refresh_from_db(fields=["status"])
            where = "provider QA" if deliverable.status == S.IN_QA else "the client's review"
            messages.success(request, f"Version {submission.version} uploaded and sent to {where}.")
            return redirect(_detail_url(deliverable))
    return _page(request, deliverable, status=400, submission_form=form)


@login_required
@require_POST
@domain_action
def qa(request, pk):
    deliverable = _deliverable(request.user, pk)
    _require_role(request.user, "qa")
    form = QaForm(request.POST)
    if form.is_valid():
        try:
            services.deliverable_qa(
                actor=request.user,
                deliverable=deliverable,
                decision=form.cleaned_data["decision"],
                comment=form.cleaned_data["comment"],
            )
        except ActionNotAllowed as error:
            # The role may QA (checked above), so this is the rule that nobody checks their
            # own submission: a stale page can still offer it after a new upload.
            messages.error(request, error.message)
            return redirect(_detail_url(deliverable))
        except BusinessRuleViolation as error:
            apply_form_error(form, error)
        else:
            passed = form.cleaned_data["decision"] == "pass"
            messages.success(
                request,
                "QA passed: the client has been asked to review it."
                if passed
                else "Returned to the analyst with your comment.",
            )
            return redirect(_detail_url(deliverable))
    return _page(request, deliverable, status=400, qa_form=form)


@login_required
@require_POST
@domain_action
def review(request, pk):
    deliverable = _deliverable(request.user, pk)
    _require_role(request.user, "review")
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.deliverable_review(
                actor=request.user,
                deliverable=deliverable,
                decision=form.cleaned_data["decision"],
                scores=form.scores() or None,
                comment=form.cleaned_data["comment"],
            )
        except BusinessRuleViolation as error:
            form.add_service_error(error)
        else:
            outcome = {
                "accept": "Accepted. It is now in the knowledge library.",
                "request_changes": "Changes requested: the provider has been told.",
                "reject": "Rejected: the provider has been told.",
            }[form.cleaned_data["decision"]]
            messages.success(request, outcome)
            return redirect(_detail_url(deliverable))
    return _page(request, deliverable, status=400, review_form=form)


@login_required
@require_POST
@domain_action
def comment(request, pk):
    """Post a comment. With HTMX the new comment is appended in place and the form is
    swapped for a fresh one (or the same one with its error); without, POST-redirect-GET."""
    deliverable = _deliverable(request.user, pk)
    _require_role(request.user, "comment")
    form = CommentForm(request.POST)
    new_comment = None
    if form.is_valid():
        try:
            new_comment = services.comment_add(
                actor=request.user, deliverable=deliverable, body=form.cleaned_data["body"]
            )
        except BusinessRuleViolation as error:
            apply_form_error(form, error)
    if request.htmx:
        return render(
            request,
            "deliverables/_comment_posted.html",
            {
                "deliverable": deliverable,
                "comment": new_comment,
                "comment_form": CommentForm() if new_comment else form,
                "detail_url": _detail_url(deliverable),
            },
        )
    if new_comment is not None:
        messages.success(request, "Comment posted.")
        return redirect(f"{_detail_url(deliverable)}#comment-{new_comment.pk}")
    return _page(request, deliverable, status=400, comment_form=form)


@login_required
@require_POST
@domain_action
def edit(request, pk):
    deliverable = _deliverable(request.user, pk)
    _require_role(request.user, "plan")
    form = DeliverableEditForm(request.POST, engagement=deliverable.engagement)
    if form.is_valid():
        try:
            services.deliverable_update(
                actor=request.user,
                deliverable=deliverable,
                due_at=form.cleaned_data["due_at"],
                assignee=form.cleaned_data["assignee"],
            )
        except BusinessRuleViolation as error:
            apply_form_error(form, error)
        else:
            messages.success(request, "Saved.")
            return redirect(_detail_url(deliverable))
    return _page(request, deliverable, status=400, edit_form=form)


@login_required
@require_POST
@domain_action
def cancel(request, pk):
    deliverable = _deliverable(request.user, pk)
    _require_role(request.user, "plan")
    form = CancelForm(request.POST)
    if form.is_valid():
        services.deliverable_cancel(
            actor=request.user, deliverable=deliverable, reason=form.cleaned_data["reason"]
        )
        messages.success(request, "Deliverable cancelled.")
        return redirect(_detail_url(deliverable))
    return _page(request, deliverable, status=400, cancel_form=form)


@login_required
@require_GET
def submission_download(request, pk):
    """A submitted file, as an attachment; the service records the download."""
    submission = visible_or_404(
        Submission.objects.restrict(request.user, "view").select_related(
            "deliverable__engagement__client", "deliverable__engagement__provider"
        ),
        pk=pk,
    )
    handle = services.submission_download(actor=request.user, submission=submission)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=submission.filename,
        content_type=submission.content_type,
    )


# -- lists ----------------------------------------------------------------------------------


@login_required
@require_GET
def knowledge(request):
    """Search the accepted deliverables the user may see."""
    query = request.GET.get("q", "").strip()
    results = knowledge_search(request.user, query)
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "deliverables/knowledge.html",
        {
            "query": query,
            "page": page,
            "results": page.object_list,
        },
    )


@login_required
@require_GET
def deliverable_list(request):
    """Deliverables the user may see, filtered with the API's filterset."""
    user = request.user
    data = request.GET.copy()
    mine = bool(data.get("mine"))
    if mine:
        data["assignee"] = str(user.pk)
    queryset = (
        Deliverable.objects.restrict(user, "view")
        .select_related("engagement__client", "engagement__provider", "assignee")
        .order_by("due_at", "id")
    )
    filterset = DeliverableFilterSet(data, queryset=queryset, request=request)
    # The choices offered must come from what the user may see, like everything else.
    filterset.form.fields["engagement"].queryset = Engagement.objects.restrict(
        user, "view"
    ).order_by("reference")
    fields = filterset.form.fields
    # Setting the choices again binds them (and their empty label) to this form's field.
    fields["status"].empty_label = "Any status"
    fields["status"].choices = DeliverableStatus.choices
    fields["sla_state"].empty_label = "Any SLA state"
    fields["sla_state"].choices = SlaState.choices
    fields["sla_state"].label = "SLA"
    fields["engagement"].empty_label = "Any engagement"
    fields["due_after"].label = "Due on or after"
    fields["due_before"].label = "Due before"
    for name in ("due_after", "due_before"):
        fields[name].widget.input_type = "date"
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "deliverables/list.html",
        {
            "filterset": filterset,
            "form": filterset.form,
            "mine": mine,
            "page": page,
            "deliverables": page.object_list,
            "open_statuses": OPEN_STATUSES,
            "filtered": any(value for key, value in request.GET.items() if key not in ("page",)),
            "offers_mine": role_may(user, "submit"),
        },
    )
