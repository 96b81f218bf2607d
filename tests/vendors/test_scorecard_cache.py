"""A large provider's scorecard is computed once and then read from the cache, and any change
to its figures is seen at once (vendors.selectors.provider_scorecard)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deliverables import services as deliverable_services
from vendors import selectors

GOOD_SCORES = {"accuracy": 5, "completeness": 4, "insight": 4, "relevance": 5, "presentation": 4}


@pytest.fixture
def large_scorecards(settings, monkeypatch):
    """Every scorecard counts as large, and the cache is this test's own."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "scorecard-cache-tests",
        }
    }
    monkeypatch.setattr(selectors, "SCORECARD_CACHE_MIN_ENGAGEMENTS", 1)


def scorecard(user, provider):
    with CaptureQueriesContext(connection) as queries:
        card = selectors.provider_scorecard(user, provider)
    return card, len(queries)


def test_a_large_scorecard_is_read_from_the_cache_the_second_time(
    large_scorecards, users, provider
):
    first, computed = scorecard(users["alpha.manager"], provider("bio-analytics"))
    again, cached = scorecard(users["alpha.manager"], provider("bio-analytics"))
    assert again == first
    assert first["deliverables_delivered"] == 2
    # The engagements are read each time; the two grouped queries only the first time.
    assert cached == computed - 2


def test_a_small_scorecard_is_computed_every_time(users, provider):
    _, first = scorecard(users["alpha.manager"], provider("bio-analytics"))
    _, again = scorecard(users["alpha.manager"], provider("bio-analytics"))
    assert again == first == 3


def test_an_accepted_version_shows_in_a_cached_scorecard_at_once(
    large_scorecards, users, provider, deliverable
):
    manager, bio = users["alpha.manager"], provider("bio-analytics")
    before, _ = scorecard(manager, bio)
    assert before["first_pass_acceptance_rate"] == 1.0

    deliverable_services.deliverable_review(
        actor=manager,
        deliverable=deliverable("Interim efficacy report"),
        decision="accept",
        scores=GOOD_SCORES,
    )

    after, _ = scorecard(manager, bio)
    # Two accepted now, the interim report on its second version.
    assert after["first_pass_acceptance_rate"] == 0.5


def test_users_who_see_different_engagements_never_share_a_cached_scorecard(
    large_scorecards, users, provider, engagements
):
    bio = provider("bio-analytics")
    admin, _ = scorecard(users["alpha.admin"], bio)
    viewer, _ = scorecard(users["alpha.viewer"], bio)
    assert engagements.rwe.pk in {row["engagement"] for row in admin["by_engagement"]}
    assert [row["engagement"] for row in viewer["by_engagement"]] == [engagements.phase_two.pk]
