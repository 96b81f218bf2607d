"""The dashboards' reads, one function per kind of dashboard.

Everything tenant-scoped starts from the access module (`restrict`), so a dashboard shows
exactly what its user may see. Each list is capped at `ROW_LIMIT` rows and comes with its
full count from one aggregate query, so a dashboard costs the same number of queries however
much work there is: lists are joined with `select_related`, per-row figures are annotations
or subqueries, never a query per row.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery
from django.utils import timezone

from deliverables.choices import (
    OPEN_STATUSES,
    DeliverableStatus,
    ReviewDecision,
    ReviewKind,
    SlaState,
)
from deliverables.models import Deliverable, Review, Submission
from engagements.choices import EngagementStatus
from engagements.models import Client, Engagement
from kpo.accounts.choices import Role
from vendors.models import Provider
from vendors.selectors import own_teams, provider_scorecard

ROW_LIMIT = 10
# Scorecards cost three queries each; a client works with a handful of providers, and the
# dashboard shows the busiest few (the directory has the rest).
SCORECARD_LIMIT = 4

OPEN = Q(status__in=OPEN_STATUSES)
AT_RISK_OR_BREACHED = OPEN & Q(sla_state__in=(SlaState.AT_RISK, SlaState.BREACHED))
RUNNING = (EngagementStatus.ACTIVE, EngagementStatus.ON_HOLD)


class _CountOf(Subquery):
    """`(SELECT COUNT(*) FROM (<correlated subquery>))`: how many rows the subquery has for
    the outer row, 0 when none; one query for the whole list, not one per row."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _counted)"
    output_field = IntegerField()


def _count_of(queryset):
    return _CountOf(queryset.order_by().values("pk"))


def _with_deliverable_counts(engagements, user):
    deliverables = Deliverable.objects.restrict(user, "view").filter(engagement=OuterRef("pk"))
    return engagements.annotate(
        open_count=_count_of(deliverables.filter(OPEN)),
        attention_count=_count_of(deliverables.filter(AT_RISK_OR_BREACHED)),
    )


def _engagement_rows(engagements, user):
    return list(
        _with_deliverable_counts(
            engagements.select_related("client", "provider", "service_line"), user
        ).order_by("-updated_at", "-id")[:ROW_LIMIT]
    )


def _attention_rows(deliverables):
    """Open work at risk or past due, most urgent first."""
    return list(
        deliverables.filter(AT_RISK_OR_BREACHED)
        .select_related("engagement", "assignee")
        .order_by("due_at", "id")[:ROW_LIMIT]
    )


def _with_review_clock(rows, now):
    """The client's review deadline runs from `review_started_at` for the engagement's
    review turnaround; past half of it the review is due soon."""
    for row in rows:
        if row.review_started_at is None:
            row.review_due_at, row.review_state = None, ""
            continue
        turnaround = timedelta(hours=row.engagement.review_turnaround_hours)
        row.review_due_at = row.review_started_at + turnaround
        if now > row.review_due_at:
            row.review_state = "overdue"
        elif now >= row.review_started_at + turnaround / 2:
            row.review_state = "due_soon"
        else:
            row.review_state = "on_track"
    return rows


def _deliverable_totals(deliverables, now, **extra):
    return deliverables.aggregate(
        open=Count("pk", filter=OPEN),
        at_risk=Count("pk", filter=OPEN & Q(sla_state=SlaState.AT_RISK)),
        breached=Count("pk", filter=OPEN & Q(sla_state=SlaState.BREACHED)),
        attention=Count("pk", filter=AT_RISK_OR_BREACHED),
        due_this_week=Count(
            "pk",
            filter=Q(status__in=OPEN_STATUSES, due_at__gte=now, due_at__lt=now + timedelta(days=7)),
        ),
        **extra,
    )


def client_dashboard(user, now=None) -> dict:
    """Client admins and managers: their engagements, what waits for their review, work at
    risk, and how their providers are doing."""
    now = now or timezone.now()
    engagements = Engagement.objects.restrict(user, "view")
    deliverables = Deliverable.objects.restrict(user, "view")
    to_review = Deliverable.objects.restrict(user, "review").filter(
        status=DeliverableStatus.IN_REVIEW
    )
    totals = _deliverable_totals(deliverables, now)
    totals["to_review"] = to_review.count()
    totals |= engagements.aggregate(
        engagements=Count("pk"),
        running=Count("pk", filter=Q(status__in=RUNNING)),
        proposed=Count("pk", filter=Q(status=EngagementStatus.PROPOSED)),
        drafts=Count("pk", filter=Q(status=EngagementStatus.DRAFT)),
    )
    review_rows = _with_review_clock(
        list(
            to_review.select_related("engagement__provider", "assignee").order_by(
                "review_started_at", "id"
            )[:ROW_LIMIT]
        ),
        now,
    )
    providers = list(
        Provider.objects.filter(pk__in=engagements.values("provider_id"))
        .annotate(engagement_count=_count_of(engagements.filter(provider=OuterRef("pk"))))
        .order_by("-engagement_count", "name")[:SCORECARD_LIMIT]
    )
    scorecards = [
        {**provider_scorecard(user, provider), "provider": provider} for provider in providers
    ]
    return {
        "totals": totals,
        "engagements": _engagement_rows(engagements, user),
        "to_review": review_rows,
        "attention": _attention_rows(deliverables),
        "scorecards": scorecards,
        "now": now,
    }


def viewer_dashboard(user, now=None) -> dict:
    """Client viewers: the engagements granted to them and what happened there lately."""
    now = now or timezone.now()
    engagements = Engagement.objects.restrict(user, "view")
    deliverables = Deliverable.objects.restrict(user, "view")
    totals = _deliverable_totals(
        deliverables,
        now,
        accepted=Count("pk", filter=Q(status=DeliverableStatus.ACCEPTED)),
    )
    totals["engagements"] = engagements.count()
    recent = list(
        deliverables.select_related("engagement", "assignee").order_by("-updated_at", "-id")[
            :ROW_LIMIT
        ]
    )
    return {
        "totals": totals,
        "engagements": _engagement_rows(engagements, user),
        "recent": recent,
        "now": now,
    }


def _current_submission(field: str):
    return Subquery(
        Submission.objects.filter(
            deliverable=OuterRef("pk"), version=OuterRef("current_version")
        ).values(field)[:1]
    )


def _last_feedback(field: str):
    return Subquery(
        Review.objects.filter(
            deliverable=OuterRef("pk"),
            decision__in=(ReviewDecision.RETURN, ReviewDecision.REQUEST_CHANGES),
        )
        .order_by("-created_at", "-id")
        .values(field)[:1]
    )


def provider_work_dashboard(user, now=None) -> dict:
    """Analysts, QA reviewers and engagement leads: the work in front of them. Analysts (and
    leads) get their assignments and what came back; QA reviewers (and leads) get the QA
    queue, without their own submissions; leads also get the engagements they lead."""
    now = now or timezone.now()
    deliverables = Deliverable.objects.restrict(user, "view")
    does_work = user.role in (Role.ANALYST, Role.ENGAGEMENT_LEAD)
    does_qa = user.role in (Role.QA_REVIEWER, Role.ENGAGEMENT_LEAD)
    leads = user.role == Role.ENGAGEMENT_LEAD
    context = {"now": now, "does_work": does_work, "does_qa": does_qa, "leads": leads}
    mine = deliverables.filter(assignee=user)
    qa_queue = (
        Deliverable.objects.restrict(user, "qa")
        .filter(status=DeliverableStatus.IN_QA)
        .exclude(
            Exists(
                Submission.objects.filter(
                    deliverable=OuterRef("pk"),
                    version=OuterRef("current_version"),
                    submitted_by=user,
                )
            )
        )
    )
    totals = mine.aggregate(
        mine_open=Count("pk", filter=OPEN & ~Q(status=DeliverableStatus.CHANGES_REQUESTED)),
        returned=Count("pk", filter=Q(status=DeliverableStatus.CHANGES_REQUESTED)),
        mine_attention=Count("pk", filter=AT_RISK_OR_BREACHED),
        mine_this_week=Count(
            "pk",
            filter=Q(status__in=OPEN_STATUSES, due_at__gte=now, due_at__lt=now + timedelta(days=7)),
        ),
    )
    if does_qa:
        totals["qa_queue"] = qa_queue.count()
    if does_work:
        context["my_work"] = list(
            mine.filter(OPEN)
            .exclude(status=DeliverableStatus.CHANGES_REQUESTED)
            .select_related("engagement")
            .order_by("due_at", "id")[:ROW_LIMIT]
        )
        context["returned"] = list(
            mine.filter(status=DeliverableStatus.CHANGES_REQUESTED)
            .select_related("engagement")
            .annotate(
                feedback=_last_feedback("comment"),
                feedback_kind=_last_feedback("kind"),
                feedback_at=_last_feedback("created_at"),
            )
            .order_by("due_at", "id")[:ROW_LIMIT]
        )
    if does_qa:
        context["qa_queue"] = list(
            qa_queue.select_related("engagement", "assignee")
            .annotate(submitted_at=_current_submission("submitted_at"))
            .order_by("submitted_at", "id")[:ROW_LIMIT]
        )
    if user.role == Role.QA_REVIEWER:
        my_checks = Review.objects.restrict(user, "view").filter(reviewer=user, kind=ReviewKind.QA)
        totals |= my_checks.aggregate(
            checked_30d=Count("pk", filter=Q(created_at__gte=now - timedelta(days=30))),
            returned_30d=Count(
                "pk",
                filter=Q(created_at__gte=now - timedelta(days=30), decision=ReviewDecision.RETURN),
            ),
        )
        context["recent_checks"] = list(
            my_checks.select_related("deliverable__engagement", "submission").order_by(
                "-created_at", "-id"
            )[:ROW_LIMIT]
        )
    if leads:
        led = Engagement.objects.restrict(user, "view").filter(provider_lead=user)
        totals |= deliverables.filter(engagement__provider_lead=user).aggregate(
            led_attention=Count("pk", filter=AT_RISK_OR_BREACHED)
        )
        context["led_engagements"] = _engagement_rows(led, user)
        context["team_attention"] = _attention_rows(
            deliverables.filter(engagement__provider_lead=user)
        )
    context["totals"] = totals
    return context


def provider_admin_dashboard(user, now=None) -> dict:
    """Provider admins: proposals waiting for an answer, each team's load, running
    engagements and the work at risk across the firm."""
    now = now or timezone.now()
    engagements = Engagement.objects.restrict(user, "view")
    deliverables = Deliverable.objects.restrict(user, "view")
    proposals = Engagement.objects.restrict(user, "respond").filter(
        status=EngagementStatus.PROPOSED
    )
    totals = _deliverable_totals(deliverables, now)
    totals |= engagements.aggregate(
        running=Count("pk", filter=Q(status__in=RUNNING)),
        proposed=Count("pk", filter=Q(status=EngagementStatus.PROPOSED)),
    )
    team_work = deliverables.filter(engagement__teams=OuterRef("pk"))
    team_engagements = engagements.filter(teams=OuterRef("pk"), status__in=RUNNING)
    members = get_user_model().objects.filter(teams=OuterRef("pk"), is_active=True)
    teams = list(
        own_teams(user)
        .select_related("lead")
        .annotate(
            member_count=_count_of(members),
            engagement_count=_count_of(team_engagements),
            open_count=_count_of(team_work.filter(OPEN)),
            attention_count=_count_of(team_work.filter(AT_RISK_OR_BREACHED)),
        )
        .order_by("name", "id")
    )
    return {
        "totals": totals,
        "proposals": list(
            proposals.select_related("client", "service_line", "client_manager").order_by(
                "updated_at", "id"
            )[:ROW_LIMIT]
        ),
        "teams": teams,
        "engagements": _engagement_rows(engagements.filter(status__in=RUNNING), user),
        "attention": _attention_rows(deliverables),
        "now": now,
    }


def staff_dashboard(user, now=None) -> dict:
    """Platform staff: a short summary across tenants; the administration site does the rest."""
    now = now or timezone.now()
    engagements = Engagement.objects.restrict(user, "view")
    deliverables = Deliverable.objects.restrict(user, "view")
    by_status = dict(
        engagements.order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    users = get_user_model().objects.aggregate(
        active=Count("pk", filter=Q(is_active=True)),
        client_side=Count("pk", filter=Q(is_active=True, client__isnull=False)),
        provider_side=Count("pk", filter=Q(is_active=True, provider__isnull=False)),
    )
    return {
        "totals": _deliverable_totals(deliverables, now),
        "engagement_statuses": [
            (value, label, by_status.get(value, 0)) for value, label in EngagementStatus.choices
        ],
        "engagement_total": sum(by_status.values()),
        "organisations": {
            "clients": Client.objects.count(),
            "providers": Provider.objects.filter(is_active=True).count(),
        },
        "users": users,
        "engagements": _engagement_rows(engagements, user),
        "attention": _attention_rows(deliverables),
        "now": now,
    }
