"""Reads about deliverables that depend on who asks."""

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Q

from .choices import DeliverableStatus
from .models import Deliverable


def _document():
    # Must stay identical to the expression of the GIN index in migration 0004.
    return SearchVector("title", "description", config="english")


def knowledge_search(user, query: str):
    """Accepted deliverables the user may see, matching `query` (best matches first).

    PostgreSQL: full-text search on an expression GIN index. Elsewhere: substring match.
    """
    accepted = (
        Deliverable.objects.restrict(user, "view")
        .filter(status=DeliverableStatus.ACCEPTED)
        .select_related("engagement__provider")
    )
    query = (query or "").strip()
    if not query:
        return accepted.order_by("-accepted_at", "-id")
    if connection.vendor == "postgresql":
        search = SearchQuery(query, config="english", search_type="websearch")
        return (
            accepted.annotate(document=_document())
            .filter(document=search)
            .annotate(rank=SearchRank(_document(), search))
            .order_by("-rank", "-accepted_at", "-id")
        )
    words = query.split()
    condition = Q()
    for word in words:
        condition &= Q(title__icontains=word) | Q(description__icontains=word)
    return accepted.filter(condition).order_by("-accepted_at", "-id")
