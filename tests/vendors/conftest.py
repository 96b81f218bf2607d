import pytest

from vendors.models import AnalystTeam, Provider


@pytest.fixture
def provider(db):
    return lambda slug: Provider.objects.get(slug=slug)


@pytest.fixture
def team(db):
    """`team("Biostatistics")`: a demo team by name."""
    return lambda name: AnalystTeam.objects.select_related("group", "lead").get(name=name)
