"""The organisation's audit trail for its admins: a filtered page, newest first, and its
CSV export. Pages go by id ("older than this one"): the trail is append-only and long, so
there is no count and no offset, and a page costs the same however far back it is."""

import json

from django.contrib.auth.decorators import login_required
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from kpo.access import policy
from kpo.web import domain_action

from . import services
from .exports import csv_lines
from .filtersets import AuditEventFilterSet
from .selectors import organisation_trail

PAGE_SIZE = 50


def _changes_text(changes) -> str:
    """`{"status": ["draft", "proposed"], "filters": {...}}` as "status: draft → proposed;
    filters: {...}" (nested values as JSON, not as Python)."""
    parts = []
    for field, value in (changes or {}).items():
        if isinstance(value, list) and len(value) == 2:
            parts.append(f"{field}: {value[0]} → {value[1]}")
        elif isinstance(value, (dict, list)):
            parts.append(f"{field}: {json.dumps(value, ensure_ascii=False, sort_keys=True)}")
        else:
            parts.append(f"{field}: {value}")
    return "; ".join(parts)


def _before(request) -> int | None:
    value = request.GET.get("before", "")
    return int(value) if value.isdigit() and len(value) < 19 else None


@login_required
@require_GET
@domain_action
def trail(request):
    user = request.user
    policy.require_organisation_action(user, "organisation_audit")
    filterset = AuditEventFilterSet(request.GET or None, queryset=organisation_trail(user))
    events = filterset.qs.select_related("target_type")
    before = _before(request)
    if before:
        events = events.filter(pk__lt=before)
    rows = list(events.order_by("-id")[: PAGE_SIZE + 1])
    has_older = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    for event in rows:
        event.changes_text = _changes_text(event.changes)
    query = request.GET.copy()
    query.pop("before", None)
    filters = query.urlencode()
    here = reverse("audit:trail") + (f"?{filters}&" if filters else "?")
    return render(
        request,
        "audit/trail.html",
        {
            "filter": filterset,
            "events": rows,
            "filtered": bool(filters),
            "export_url": reverse("audit:export") + (f"?{filters}" if filters else ""),
            "newer_url": here.rstrip("?&") if before else "",
            "older_url": f"{here}before={rows[-1].pk}" if has_older else "",
            "summary": "Earlier events" if before else "The newest events",
        },
    )


@login_required
@require_GET
@domain_action
def trail_csv(request):
    user = request.user
    events = services.organisation_trail_export(actor=user, params=request.GET)
    organisation = user.organisation
    scope = organisation.slug if organisation else "all-organisations"
    response = StreamingHttpResponse(csv_lines(events), content_type="text/csv; charset=utf-8")
    filename = f"audit-{scope}-{timezone.localdate():%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
