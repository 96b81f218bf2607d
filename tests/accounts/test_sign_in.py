import pytest
from django.urls import reverse

from kpo.demo import DEMO_PASSWORD, DEMO_USERNAMES


@pytest.mark.parametrize("username", DEMO_USERNAMES)
def test_every_demo_user_can_sign_in_and_reach_the_landing_page(client, db, username):
    response = client.post(
        reverse("accounts:login"), {"username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302
    landing = client.get(reverse("home"))
    assert landing.status_code == 200
    assert username.encode() in landing.content or b"Sign out" in landing.content


def test_wrong_password_shows_the_form_again_with_an_error(client, db):
    response = client.post(
        reverse("accounts:login"), {"username": "alpha.manager", "password": "nope"}
    )
    assert response.status_code == 200
    assert b"correct username and password" in response.content
    assert client.get(reverse("home")).status_code == 302


def test_landing_page_lists_only_engagements_the_user_may_see(client, db):
    client.post(reverse("accounts:login"), {"username": "alpha.viewer", "password": DEMO_PASSWORD})
    page = client.get(reverse("home")).content.decode()
    assert "Phase II oncology trial analysis" in page
    assert "Real-world evidence dashboard" not in page
    assert "EU banks equity coverage" not in page


def test_anonymous_visitor_is_sent_to_sign_in(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]
