"""Fixtures of the account tests: fast password checks, and clients that come from a given
network address."""

import pytest
from django.test import Client

from kpo.demo import DEMO_PASSWORD


@pytest.fixture
def cheap_password(settings):
    """Checking a password at the production hasher's cost takes half a second; these tests
    check dozens. `cheap_password(user)` re-hashes the demo password with a fast hasher, inside
    the test's transaction."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    def rehash(user):
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        return user

    return rehash


@pytest.fixture
def from_address():
    """`from_address("203.0.113.5")`: a test client whose every request comes from there."""
    return lambda address, **extra: Client(REMOTE_ADDR=address, **extra)
