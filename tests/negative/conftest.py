"""Fixtures of the negative-input sweep: the demo world by name, API clients and browsers per
demo user, and the count of inputs sent, printed at the end of the run."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from kpo.demo import DEMO_PASSWORD
from tests.api.conftest import World
from tests.negative.support import SENT
from tests.support import force_login_verified


@pytest.fixture
def world(users, engagements, deliverable):
    return World(users, engagements, deliverable)


@pytest.fixture
def api(users):
    """`api("alpha.manager")`: an API client for that demo user, authenticated the way the
    authorization matrix does it (so no second factor is asked of the admins);
    `api(None)`: a client without credentials."""

    def make(username=None):
        client = APIClient()
        if username is not None:
            client.force_authenticate(users[username])
        return client

    return make


@pytest.fixture
def browser(users):
    """`browser("bio.lead")`: a test client signed in as that demo user, past the code step
    for those with an authenticator app (every demo admin); `browser("alpha.admin",
    verified=False)`: signed in, the code still to give; `browser(None)`: a visitor."""

    def sign_in(username=None, verified=True):
        client = Client()
        if username is not None and verified:
            force_login_verified(client, users[username])
        elif username is not None:
            client.force_login(users[username])
        return client

    return sign_in


@pytest.fixture
def cheap_password(settings):
    """A sign-in checks the password at the production hasher's cost (half a second); the
    cases that sign in re-hash the demo password with a fast hasher in their own transaction."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    def rehash(user):
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])

    return rehash


def pytest_terminal_summary(terminalreporter):
    if not SENT:
        return
    families = ", ".join(f"{family} {count}" for family, count in sorted(SENT.items()))
    terminalreporter.write_sep("-", "negative-input sweep")
    terminalreporter.write_line(f"{SENT.total()} negative inputs sent ({families})")
