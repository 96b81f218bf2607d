import pytest

from .support import Demo


@pytest.fixture
def demo(users, engagements, deliverable):
    return Demo(users, engagements, deliverable)
