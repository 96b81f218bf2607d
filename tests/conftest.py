"""Every test runs on the demo data of shared/DEMO.md, built once per session through the
services, and rolled back after each test."""

import pytest
from django.contrib.auth import get_user_model

from engagements.models import Engagement
from kpo.demo import DemoBuilder


@pytest.fixture(scope="session", autouse=True)
def _isolated_media(tmp_path_factory):
    from django.conf import settings

    settings.MEDIA_ROOT = str(tmp_path_factory.mktemp("media"))
    settings.STORAGES["default"]["OPTIONS"]["location"] = settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def _generous_api_rate_limits(settings):
    """Suites send hundreds of requests per user per minute; the limits themselves are
    proven in tests/core/test_rate_limits.py, with small rates set there."""
    settings.API_THROTTLE_RATES = {
        "user": "100000/minute",
        "token": "100000/minute",
        "anon": "100000/minute",
    }


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, _isolated_media):
    with django_db_blocker.unblock():
        DemoBuilder().build()


class DemoUsers:
    """`users.alpha_manager` or `users["alpha.manager"]`: the demo user of that name."""

    def __getitem__(self, username):
        return get_user_model().objects.select_related("client", "provider").get(username=username)

    def __getattr__(self, name):
        return self[name.replace("_", ".")]


class DemoEngagements:
    @property
    def phase_two(self):
        return Engagement.objects.get(title="Phase II oncology trial analysis")

    @property
    def rwe(self):
        return Engagement.objects.get(title="Real-world evidence dashboard")

    @property
    def eu_banks(self):
        return Engagement.objects.get(title="EU banks equity coverage")


@pytest.fixture
def users(db):
    return DemoUsers()


@pytest.fixture
def engagements(db):
    return DemoEngagements()


@pytest.fixture
def deliverable(db):
    """`deliverable("Safety signal memo")`: a demo deliverable by title."""
    from deliverables.models import Deliverable

    return lambda title: Deliverable.objects.select_related("engagement").get(title=title)
