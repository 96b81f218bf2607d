"""Reads about providers that depend on who asks: the directory and the scorecard."""

import hashlib

from django.core.cache import cache
from django.db.models import Count, F, Q, Subquery, Sum

from deliverables.choices import DeliverableStatus, ReviewKind, SlaState
from deliverables.models import Deliverable, Review
from engagements.models import Engagement
from kpo.audit.models import AuditEvent

from .models import AnalystTeam, Provider, VendorApproval

# A scorecard aggregates every deliverable and client review of the engagements it covers:
# a few milliseconds for a handful of engagements, over a second for a provider with
# 100,000 deliverables (bench/README.md). From this many engagements it is cached, keyed
# by the set of engagements and by the provider's newest audit event: everything that moves
# a figure (a submission, a QA or client review, a breach, a cancellation, new terms) is a
# state change, every state change writes an audit event scoped to the provider, so any
# change makes a new key and a cached scorecard is never stale. The timeout only bounds
# what a change outside the services (a data fix) could leave behind.
SCORECARD_CACHE_MIN_ENGAGEMENTS = 10
SCORECARD_CACHE_SECONDS = 600


def providers_for(user):
    """Client users may engage any active provider; provider users see their own firm."""
    providers = Provider.objects.prefetch_related("service_lines")
    if user.is_superuser:
        return providers
    if user.provider_id:
        return providers.filter(pk=user.provider_id)
    if user.client_id:
        return providers.filter(is_active=True)
    return providers.none()


def own_approvals(user):
    """A client's own due-diligence verdicts. They hang off no engagement, so the organisation
    is their scope; nobody else reads them."""
    if not user.client_id:
        return VendorApproval.objects.none()
    return VendorApproval.objects.filter(client_id=user.client_id)


def own_teams(user):
    """The analyst teams of the user's own provider. Teams belong to a provider, not to an
    engagement, so the organisation is their scope."""
    if not user.provider_id:
        return AnalystTeam.objects.none()
    return AnalystTeam.objects.filter(provider_id=user.provider_id)


def _rate(part, whole):
    return round(part / whole, 4) if whole else None


def _figures(row: dict, review_row: dict) -> dict:
    delivered = row["delivered"] or 0
    accepted = row["accepted"] or 0
    seconds = review_row.get("review_seconds")
    return {
        "deliverables_delivered": delivered,
        "on_time_rate": _rate(row["met"] or 0, delivered),
        "average_quality": round(float(row["quality_sum"]) / accepted, 2)
        if accepted and row["quality_sum"] is not None
        else None,
        "first_pass_acceptance_rate": _rate(row["first_pass"] or 0, accepted),
        "average_review_hours": round(seconds / review_row["reviews"] / 3600, 2)
        if seconds is not None and review_row.get("reviews")
        else None,
        "breaches": (row["missed"] or 0) + (row["open_breaches"] or 0),
        "open_breaches": row["open_breaches"] or 0,
    }


def provider_scorecard(user, provider) -> dict:
    """The provider's delivery record, computed only from engagements `user` may see.

    Two grouped queries (deliverables, client reviews) whatever the number of deliverables,
    none when a large scorecard is cached; overall figures are summed from the
    per-engagement rows so they agree exactly.
    """
    # The newest event comes with the engagements, in the same statement, so that both
    # are of one moment; the figures are read after it and can only be newer than the key.
    newest_event = AuditEvent.objects.filter(provider_id=provider.pk).order_by("-id")
    engagements = {
        e.pk: e
        for e in Engagement.objects.restrict(user, "view")
        .filter(provider=provider)
        .only("pk", "reference", "title")
        .annotate(newest_event=Subquery(newest_event.values("id")[:1]))
    }
    if len(engagements) < SCORECARD_CACHE_MIN_ENGAGEMENTS:
        return _scorecard(provider, engagements)
    newest = next(iter(engagements.values())).newest_event or 0
    ids = ",".join(str(pk) for pk in sorted(engagements)).encode()
    key = f"scorecard:{provider.pk}:{newest}:{hashlib.blake2b(ids, digest_size=16).hexdigest()}"
    card = cache.get(key)
    if card is None:
        card = _scorecard(provider, engagements)
        cache.set(key, card, SCORECARD_CACHE_SECONDS)
    return card


def _scorecard(provider, engagements: dict) -> dict:
    accepted = Q(status=DeliverableStatus.ACCEPTED)
    rows = (
        Deliverable.objects.filter(engagement_id__in=list(engagements))
        .values("engagement_id")
        .annotate(
            delivered=Count("pk", filter=Q(delivered_at__isnull=False)),
            met=Count("pk", filter=Q(sla_state=SlaState.MET)),
            missed=Count("pk", filter=Q(sla_state=SlaState.MISSED)),
            open_breaches=Count("pk", filter=Q(sla_state=SlaState.BREACHED)),
            accepted=Count("pk", filter=accepted),
            first_pass=Count("pk", filter=accepted & Q(current_version=1)),
            quality_sum=Sum("overall_score", filter=accepted),
        )
        .order_by()
    )
    reviews = (
        Review.objects.filter(
            deliverable__engagement_id__in=list(engagements),
            kind=ReviewKind.CLIENT,
            turnaround__isnull=False,
        )
        .values(engagement_id=F("deliverable__engagement_id"))
        .annotate(reviews=Count("pk"), review_total=Sum("turnaround"))
        .order_by()
    )
    review_rows = {
        r["engagement_id"]: {
            "reviews": r["reviews"],
            "review_seconds": r["review_total"].total_seconds(),
        }
        for r in reviews
    }
    keys = ("delivered", "met", "missed", "open_breaches", "accepted", "first_pass")
    totals = dict.fromkeys(keys, 0) | {"quality_sum": None}
    review_totals = {"reviews": 0, "review_seconds": None}
    zero = dict.fromkeys(keys, 0) | {"quality_sum": None}
    rows_by_engagement = {row["engagement_id"]: row for row in rows}
    by_engagement = []
    for engagement in sorted(engagements.values(), key=lambda e: e.reference):
        row = rows_by_engagement.get(engagement.pk, zero)
        review_row = review_rows.get(engagement.pk, {})
        by_engagement.append(
            {
                "engagement": engagement.pk,
                "reference": engagement.reference,
                "title": engagement.title,
                **_figures(row, review_row),
            }
        )
        for key in keys:
            totals[key] += row[key] or 0
        if row["quality_sum"] is not None:
            totals["quality_sum"] = (totals["quality_sum"] or 0) + row["quality_sum"]
        if review_row:
            review_totals["reviews"] += review_row["reviews"]
            review_totals["review_seconds"] = (review_totals["review_seconds"] or 0) + review_row[
                "review_seconds"
            ]
    return {
        "provider": provider.pk,
        **_figures(totals, review_totals),
        "by_engagement": by_engagement,
    }
