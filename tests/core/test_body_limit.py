"""No request body above REQUEST_MAX_BYTES is read: the answer is 413 before any parsing,
and nothing is stored."""

import pytest
from rest_framework.test import APIClient

from deliverables.models import Submission


@pytest.fixture
def small_limit(settings):
    settings.REQUEST_MAX_BYTES = 1024


def test_an_oversized_api_body_gets_413_with_the_limit_in_words(small_limit, users, deliverable):
    target = deliverable("Safety signal memo")
    client = APIClient()
    client.force_authenticate(users.bio_analyst)
    before = Submission.objects.count()
    response = client.post(
        f"/api/v1/deliverables/{target.pk}/submissions/",
        data=b"x" * 2048,
        content_type="application/octet-stream",
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "The request is larger than the 1 KB limit."}
    assert Submission.objects.count() == before


def test_an_oversized_form_post_gets_a_413_page(small_limit, client, users):
    client.force_login(users.alpha_manager)
    response = client.post("/engagements/new/", data={"title": "x" * 4096}, HTTP_ACCEPT="text/html")
    assert response.status_code == 413
    assert b"That upload is too large" in response.content


def test_a_body_within_the_limit_is_served(small_limit, client, users):
    client.force_login(users.alpha_manager)
    assert client.get("/engagements/").status_code == 200


def test_the_default_limit_leaves_room_for_the_largest_upload(settings):
    assert settings.REQUEST_MAX_BYTES > settings.UPLOAD_MAX_BYTES
