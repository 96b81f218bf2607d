"""Bare baseline views: the rows an endpoint or page shows, as `.values()` of a hand-written
query with the same filter, returned as JSON (API) or a minimal HTML table (pages). No DRF,
no serializers, no templates beyond one string: the practical limit of serving those rows
from Django on this database.

Visibility is the same rule as the app's (kpo/access/policy.py), written out by hand for
the benchmark's subjects: an organisation's admins see all of its engagements (a provider
none of the drafts), everyone else those granted to them or to one of their teams.
"""

from datetime import timedelta

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db.models import Count, F, Q, Sum
from django.db.models.expressions import RawSQL
from django.http import Http404, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.html import escape
from rest_framework.authtoken.models import Token

from deliverables.models import Comment, Deliverable, Review, Submission
from engagements.models import Engagement
from kpo.audit.models import AuditEvent

DELIVERABLE_FIELDS = (
    "id",
    "engagement_id",
    "title",
    "description",
    "kind",
    "due_at",
    "assignee_id",
    "status",
    "sla_state",
    "delivered_at",
    "accepted_at",
    "current_version",
    "overall_score",
    "created_at",
    "updated_at",
)
GRANTED = """
SELECT u.content_object_id FROM access_engagementuserobjectpermission u
 WHERE u.user_id = %s AND u.permission_id = %s
UNION
SELECT g.content_object_id FROM access_engagementgroupobjectpermission g
  JOIN accounts_user_groups m ON m.group_id = g.group_id
 WHERE m.user_id = %s AND g.permission_id = %s
"""
_permission = {}


def _view_permission_id() -> int:
    if not _permission:
        from django.contrib.auth.models import Permission

        _permission["id"] = Permission.objects.get(
            codename="view_engagement", content_type__app_label="engagements"
        ).pk
    return _permission["id"]


def _token_user(request):
    key = request.headers.get("Authorization", "").removeprefix("Token ")
    try:
        return Token.objects.select_related("user").get(key=key).user
    except Token.DoesNotExist:
        raise Http404 from None


def _visible(user):
    """The engagements `user` may see, as a queryset for an `__in` filter."""
    if user.client_id:
        engagements = Engagement.objects.filter(client_id=user.client_id)
    else:
        engagements = Engagement.objects.filter(provider_id=user.provider_id).exclude(
            status="draft"
        )
    if user.role in ("client_admin", "provider_admin"):
        return engagements.values("pk")
    permission = _view_permission_id()
    granted = RawSQL(GRANTED, (user.pk, permission, user.pk, permission))  # noqa: S611 - bound
    return engagements.filter(pk__in=granted).values("pk")


def _rows(queryset):
    return list(queryset)


# -- API ---------------------------------------------------------------------------------------


def deliverables(request):
    user = _token_user(request)
    size = int(request.GET.get("page_size", 100))
    rows = (
        Deliverable.objects.filter(engagement_id__in=_visible(user))
        .order_by("due_at", "id")
        .values(*DELIVERABLE_FIELDS)[:size]
    )
    return JsonResponse({"results": _rows(rows)})


def engagement(request, pk):
    user = _token_user(request)
    rows = _rows(Engagement.objects.filter(pk=pk, pk__in=_visible(user)).values())
    if not rows:
        raise Http404
    teams = Engagement.teams.through.objects.filter(engagement_id=pk)
    rows[0]["teams"] = list(teams.values_list("analystteam_id", flat=True))
    return JsonResponse(rows[0])


def audit(request, pk):
    user = _token_user(request)
    if not Engagement.objects.filter(pk=pk, pk__in=_visible(user)).exists():
        raise Http404
    events = AuditEvent.objects.filter(engagement_id=pk)
    if "before" in request.GET:
        events = events.filter(id__lt=int(request.GET["before"]))
    return JsonResponse({"results": _rows(events.order_by("-id").values()[:50])})


def _scorecard_rows(user, provider_id):
    engagements = Engagement.objects.filter(pk__in=_visible(user), provider_id=provider_id)
    accepted = Q(status="accepted")
    by_engagement = (
        Deliverable.objects.filter(engagement_id__in=engagements.values("pk"))
        .values("engagement_id")
        .annotate(
            delivered=Count("pk", filter=Q(delivered_at__isnull=False)),
            met=Count("pk", filter=Q(sla_state="met")),
            missed=Count("pk", filter=Q(sla_state="missed")),
            open_breaches=Count("pk", filter=Q(sla_state="breached")),
            accepted=Count("pk", filter=accepted),
            first_pass=Count("pk", filter=accepted & Q(current_version=1)),
            quality_sum=Sum("overall_score", filter=accepted),
        )
        .order_by()
    )
    reviews = (
        Review.objects.filter(
            deliverable__engagement_id__in=engagements.values("pk"),
            kind="client",
            turnaround__isnull=False,
        )
        .values(engagement_id=F("deliverable__engagement_id"))
        .annotate(reviews=Count("pk"), review_total=Sum("turnaround"))
        .order_by()
    )
    names = engagements.values("pk", "reference", "title")
    return _rows(by_engagement), _rows(reviews), _rows(names)


def scorecard(request, pk):
    user = _token_user(request)
    rows, reviews, names = _scorecard_rows(user, pk)
    for review in reviews:
        review["review_total"] = review["review_total"].total_seconds()
    return JsonResponse({"by_engagement": rows, "reviews": reviews, "engagements": names})


def knowledge(request):
    user = _token_user(request)
    search = SearchQuery(request.GET.get("q", ""), config="english", search_type="websearch")
    document = SearchVector("title", "description", config="english")
    rows = (
        Deliverable.objects.filter(status="accepted", engagement_id__in=_visible(user))
        .annotate(document=document)
        .filter(document=search)
        .annotate(
            rank=SearchRank(document, search),
            engagement_reference=F("engagement__reference"),
            engagement_title=F("engagement__title"),
            provider_name=F("engagement__provider__name"),
        )
        .order_by("-rank", "-accepted_at", "-id")
        .values(
            "id",
            "title",
            "description",
            "kind",
            "engagement_id",
            "engagement_reference",
            "engagement_title",
            "engagement__provider_id",
            "provider_name",
            "accepted_at",
            "overall_score",
            "current_version",
        )[:50]
    )
    return JsonResponse({"results": _rows(rows)})


# -- pages -------------------------------------------------------------------------------------


def _page(title: str, *tables) -> HttpResponse:
    """One HTML page with a table per row set: what a page costs beyond its queries."""
    parts = [f"<!doctype html><html><head><title>{escape(title)}</title></head><body>"]
    for rows in tables:
        if not rows:
            parts.append("<p>None.</p>")
            continue
        columns = list(rows[0])
        parts.append("<table><tr>" + "".join(f"<th>{escape(c)}</th>" for c in columns) + "</tr>")
        for row in rows:
            parts.append(
                "<tr>" + "".join(f"<td>{escape(str(row[c]))}</td>" for c in columns) + "</tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    return HttpResponse("".join(parts))


def _session_user(request):
    if not request.user.is_authenticated:
        raise Http404
    return request.user


def dashboard_page(request):
    """A client manager's dashboard: the same totals, the ten most recently changed
    engagements with their open and at-risk counts, what waits for review, the most urgent
    work and the providers' figures."""
    user = _session_user(request)
    now = timezone.now()
    visible = _visible(user)
    work = Deliverable.objects.filter(engagement_id__in=visible)
    open_ = Q(status__in=["planned", "in_progress", "in_qa", "in_review", "changes_requested"])
    attention = open_ & Q(sla_state__in=["at_risk", "breached"])
    totals = work.aggregate(
        open=Count("pk", filter=open_),
        at_risk=Count("pk", filter=open_ & Q(sla_state="at_risk")),
        breached=Count("pk", filter=open_ & Q(sla_state="breached")),
        attention=Count("pk", filter=attention),
        due_this_week=Count(
            "pk", filter=open_ & Q(due_at__gte=now, due_at__lt=now + timedelta(days=7))
        ),
        to_review=Count("pk", filter=Q(status="in_review")),
    )
    engagements = _rows(
        Engagement.objects.filter(pk__in=visible)
        .annotate(
            open_count=Count(
                "deliverables", filter=Q(deliverables__status__in=open_.children[0][1])
            ),
        )
        .order_by("-updated_at", "-id")
        .values("id", "reference", "title", "status", "open_count")[:10]
    )
    to_review = _rows(
        work.filter(status="in_review")
        .order_by("review_started_at", "id")
        .values("id", "title", "review_started_at", "engagement__reference")[:10]
    )
    urgent = _rows(
        work.filter(attention)
        .order_by("due_at", "id")
        .values("id", "title", "due_at", "sla_state", "engagement__reference")[:10]
    )
    providers = _rows(
        work.values(provider=F("engagement__provider_id"))
        .annotate(
            delivered=Count("pk", filter=Q(delivered_at__isnull=False)),
            met=Count("pk", filter=Q(sla_state="met")),
            accepted=Count("pk", filter=Q(status="accepted")),
        )
        .order_by("-delivered")[:3]
    )
    return _page("Dashboard", [totals], engagements, to_review, urgent, providers)


def engagement_page(request, pk):
    """An engagement's overview: its terms, teams and deliverables timeline."""
    user = _session_user(request)
    rows = _rows(Engagement.objects.filter(pk=pk, pk__in=_visible(user)).values())
    if not rows:
        raise Http404
    teams = _rows(
        Engagement.teams.through.objects.filter(engagement_id=pk).values(
            "analystteam_id", "analystteam__name"
        )
    )
    timeline = _rows(
        Deliverable.objects.filter(engagement_id=pk)
        .order_by("due_at", "id")
        .values("id", "title", "due_at", "status", "sla_state", "assignee__username")
    )
    return _page("Engagement", rows, teams, timeline)


def deliverable_page(request, pk):
    """A deliverable with its versions, reviews and discussion."""
    user = _session_user(request)
    rows = _rows(
        Deliverable.objects.filter(pk=pk, engagement_id__in=_visible(user)).values(
            *DELIVERABLE_FIELDS, "engagement__reference", "engagement__title"
        )
    )
    if not rows:
        raise Http404
    versions = _rows(Submission.objects.filter(deliverable_id=pk).order_by("version").values())
    reviews = _rows(Review.objects.filter(deliverable_id=pk).order_by("created_at", "id").values())
    comments = _rows(
        Comment.objects.filter(deliverable_id=pk).order_by("created_at", "id").values()
    )
    return _page("Deliverable", rows, versions, reviews, comments)


def scorecard_page(request, pk):
    """A provider's scorecard: the figures per engagement, the client reviews and the
    deliveries per month."""
    user = _session_user(request)
    rows, reviews, names = _scorecard_rows(user, pk)
    engagements = Engagement.objects.filter(pk__in=_visible(user), provider_id=pk)
    months = _rows(
        Deliverable.objects.filter(
            engagement_id__in=engagements.values("pk"), delivered_at__isnull=False
        )
        .values(month=RawSQL("date_trunc('month', delivered_at)", ()))
        .annotate(delivered=Count("pk"), met=Count("pk", filter=Q(sla_state="met")))
        .order_by("month")
    )
    return _page("Scorecard", rows, reviews, names, months)
