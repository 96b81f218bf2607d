"""The notifications page: a user's own notifications only, newest first, paged by id with a
constant number of queries, and marking them read one at a time (also over htmx) or all at
once. Another user's notification answers 404, like a missing one.

Notifications are made through the notification service, as the domain services make them.
"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kpo.notifications import services
from kpo.notifications.choices import NotificationKind
from kpo.notifications.models import Notification
from kpo.notifications.views import PAGE_SIZE
from tests.support import force_login_verified

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)


@pytest.fixture
def tell(users):
    """`tell("bio.analyst", "Title", n=3)`: n new notifications for that user, newest last."""

    def make(username, title="Something happened", n=1, url=""):
        user = users[username]
        for i in range(n):
            services.notify(
                kind=NotificationKind.COMMENT_ADDED,
                recipients=[user],
                title=f"{title} {i}" if n > 1 else title,
                body="Details of what happened.",
            )
        made = Notification.objects.filter(user=user).order_by("-id")[:n]
        if url:
            Notification.objects.filter(pk__in=[m.pk for m in made]).update(url=url)
        return list(made)

    return make


@pytest.fixture
def signed_in(client, users):
    def sign_in(username):
        force_login_verified(client, users[username])
        return client

    return sign_in


def page(client, path=None):
    response = client.get(path or reverse("notifications:list"))
    assert response.status_code == 200
    return response.content.decode()


def test_the_list_shows_only_the_users_own_notifications(signed_in, tell):
    tell("bio.analyst", "For the analyst")
    tell("alpha.manager", "For the manager")
    html = page(signed_in("bio.analyst"))
    assert "For the analyst" in html
    assert "For the manager" not in html


def test_a_notification_links_to_what_it_is_about(signed_in, tell):
    tell("bio.analyst", "Look here", url="/deliverables/3/")
    assert 'href="/deliverables/3/"' in page(signed_in("bio.analyst"))


def test_unread_filter_hides_what_was_read(signed_in, tell, users):
    read, unread = tell("bio.analyst", "Old news"), tell("bio.analyst", "Fresh news")
    services.notification_mark_read(actor=users.bio_analyst, notification=read[0])
    html = page(signed_in("bio.analyst"), reverse("notifications:list") + "?show=unread")
    assert "Fresh news" in html
    assert "Old news" not in html
    assert unread


def test_an_empty_list_says_what_will_appear_there(signed_in, users):
    Notification.objects.filter(user=users.bio_writer).delete()
    html = page(signed_in("bio.writer"))
    assert "No notifications yet" in html
    assert "Mark all as read" not in html


def test_older_notifications_are_one_click_away(signed_in, tell):
    made = tell("bio.writer", "Numbered", n=PAGE_SIZE + 5)
    client = signed_in("bio.writer")
    first = page(client)
    assert "Numbered 29" in first  # the newest
    older = re.search(r'href="([^"]*before=\d+)"', first)
    assert older, "an Older link"
    second = page(client, older.group(1).replace("&amp;", "&"))
    assert "Numbered 0" in second  # the oldest
    assert "Numbered 29" not in second
    assert "← Newest" in second
    assert len(made) == PAGE_SIZE + 5


def test_the_list_costs_the_same_queries_whatever_its_length(
    signed_in, tell, django_assert_max_num_queries
):
    client = signed_in("bio.writer")
    tell("bio.writer", "Few", n=2)
    with CaptureQueriesContext(connection) as few:
        page(client)
    tell("bio.writer", "Many", n=60)
    with django_assert_max_num_queries(6), CaptureQueriesContext(connection) as many:
        page(client)
    assert len(many) == len(few)


def test_a_nonsense_cursor_is_ignored(signed_in, tell):
    tell("bio.writer", "Still here")
    html = page(signed_in("bio.writer"), reverse("notifications:list") + "?before=abc")
    assert "Still here" in html


def test_marking_one_read_without_htmx_goes_back_with_a_message(signed_in, tell):
    (notification,) = tell("bio.analyst", "Read me")
    client = signed_in("bio.analyst")
    response = client.post(reverse("notifications:read", args=[notification.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("notifications:list")
    assert "Marked “Read me” as read." in response.content.decode()
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_marking_one_read_over_htmx_swaps_the_row_and_the_counts(signed_in, tell, users):
    (notification,) = tell("bio.analyst", "Swap me")
    client = signed_in("bio.analyst")
    response = client.post(
        reverse("notifications:read", args=[notification.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="notification-{notification.pk}"' in html
    assert "notification-read" in html
    assert re.search(r'id="unread-badge"[^>]*hx-swap-oob="true"', html)
    assert re.search(r'id="unread-summary"[^>]*hx-swap-oob="true"', html)
    assert re.search(r'id="unread-tab-count"[^>]*hx-swap-oob="true"', html)
    unread = Notification.objects.filter(user=users.bio_analyst, read_at__isnull=True).count()
    assert (f"({unread} unread)" in html) if unread else ("unread)" not in html)
    assert not INLINE_SCRIPT.search(html)


def test_marking_read_twice_is_harmless(signed_in, tell):
    (notification,) = tell("bio.analyst", "Twice")
    client = signed_in("bio.analyst")
    url = reverse("notifications:read", args=[notification.pk])
    assert client.post(url).status_code == 302
    notification.refresh_from_db()
    first = notification.read_at
    assert client.post(url).status_code == 302
    notification.refresh_from_db()
    assert notification.read_at == first


def test_another_users_notification_answers_404_and_stays_unread(signed_in, tell):
    (theirs,) = tell("alpha.manager", "Not yours")
    client = signed_in("bio.analyst")
    response = client.post(reverse("notifications:read", args=[theirs.pk]))
    assert response.status_code == 404
    response = client.post(
        reverse("notifications:read", args=[theirs.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_a_missing_notification_answers_404(signed_in):
    response = signed_in("bio.analyst").post(reverse("notifications:read", args=[999999]))
    assert response.status_code == 404


def test_marking_read_is_a_post(signed_in, tell):
    (notification,) = tell("bio.analyst", "Get is not enough")
    client = signed_in("bio.analyst")
    assert client.get(reverse("notifications:read", args=[notification.pk])).status_code == 405
    assert client.get(reverse("notifications:read_all")).status_code == 405


def test_marking_all_read_is_one_update_of_the_users_own(signed_in, tell, users):
    tell("bio.analyst", "Mine", n=4)
    (theirs,) = tell("alpha.manager", "Theirs")
    client = signed_in("bio.analyst")
    with CaptureQueriesContext(connection) as queries:
        response = client.post(reverse("notifications:read_all"))
    assert response.status_code == 302
    updates = [q for q in queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    assert not Notification.objects.filter(user=users.bio_analyst, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None
    followed = client.get(response["Location"]).content.decode()
    assert re.search(r"Marked \d+ notifications as read\.", followed)


def test_marking_all_read_with_nothing_unread_says_so(signed_in, users):
    services.notifications_mark_all_read(actor=users.bio_analyst)
    response = signed_in("bio.analyst").post(reverse("notifications:read_all"), follow=True)
    assert "You had no unread notifications." in response.content.decode()


def test_the_service_marks_all_and_counts_them(tell, users):
    tell("bio.writer", "Count me", n=3)
    unread = Notification.objects.filter(user=users.bio_writer, read_at__isnull=True).count()
    assert services.notifications_mark_all_read(actor=users.bio_writer) == unread
    assert services.notifications_mark_all_read(actor=users.bio_writer) == 0


def test_the_page_is_ready_for_a_strict_content_security_policy(signed_in, tell):
    tell("bio.analyst", "Policy", n=3)
    html = page(signed_in("bio.analyst"))
    assert not INLINE_SCRIPT.search(html)
    assert not STYLE_ATTRIBUTE.search(html)


def test_the_page_needs_a_signed_in_user(client, db):
    response = client.get(reverse("notifications:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert client.post(reverse("notifications:read_all")).status_code == 302


def test_a_user_chooses_the_daily_digest_and_the_choice_is_audited(client, db):
    from django.contrib.auth import get_user_model

    from kpo.audit.models import AuditEvent

    user = get_user_model().objects.get(username="bio.analyst")
    client.force_login(user)
    page = client.get(reverse("notifications:list")).content.decode()
    assert 'value="immediate" checked' in page

    response = client.post(reverse("notifications:email_mode"), {"email_mode": "digest"})

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email_mode == "digest"
    event = AuditEvent.objects.get(action="account.email_mode", actor=user)
    assert event.changes == {"email_mode": ["immediate", "digest"]}


def test_an_unknown_email_setting_changes_nothing_and_says_why(client, db):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="bio.analyst")
    client.force_login(user)

    response = client.post(
        reverse("notifications:email_mode"), {"email_mode": "carrier-pigeon"}, follow=True
    )

    user.refresh_from_db()
    assert user.email_mode == "immediate"
    assert "Choose one of the offered e-mail settings." in response.content.decode()
