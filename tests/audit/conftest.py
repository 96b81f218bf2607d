"""Clients for the audit tests: a browser session and an API client per demo user, each
calling from a fixed address with a fixed user agent, so that "from where" can be checked."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.api.conftest import World
from tests.support import force_login_verified

ADDRESS = "198.51.100.23"
AGENT = "AuditTest/1.0 (compliance review)"
ORIGIN = {"REMOTE_ADDR": ADDRESS, "HTTP_USER_AGENT": AGENT}


@pytest.fixture
def world(users, engagements, deliverable):
    return World(users, engagements, deliverable)


@pytest.fixture
def browser(users):
    """`browser("alpha.admin")`: a test client signed in as that demo user (second factor
    included, as admins need it)."""

    def make(username):
        return force_login_verified(Client(**ORIGIN), users[username])

    return make


@pytest.fixture
def api(users):
    """`api("alpha.admin")`: an API client authenticated as that demo user."""

    def make(username):
        client = APIClient(**ORIGIN)
        client.force_authenticate(users[username])
        return client

    return make
