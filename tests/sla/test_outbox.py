"""The outbox sends each e-mail once: rows are claimed with a conditional update, a row left
`sending` by a dead worker is taken up again after its lease, and each user's preference
(immediate, daily digest, none) decides what is e-mailed."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from deliverables.sla import run_sla_sweep
from kpo.accounts.choices import EmailMode
from kpo.notifications import outbox
from kpo.notifications.choices import OutboxStatus
from kpo.notifications.models import Notification, OutboxMessage
from kpo.notifications.services import send_daily_digests


@pytest.fixture
def sent_backlog(db):
    """The demo's own e-mails have already gone out; `mail.outbox` starts empty."""
    outbox.dispatch_outbox()
    assert not OutboxMessage.objects.filter(status=OutboxStatus.PENDING).exists()
    mail.outbox.clear()


def emails_to(user):
    return [m for m in mail.outbox if m.to == [user.email]]


def message_ids():
    return [m.extra_headers["Message-ID"] for m in mail.outbox]


def set_email_mode(user, mode):
    # Preferences are set by platform staff in the admin; there is no service for it.
    type(user).objects.filter(pk=user.pk).update(email_mode=mode)


def test_each_due_email_is_sent_once_and_marked_sent(sent_backlog):
    run_sla_sweep()
    rows = OutboxMessage.objects.filter(status=OutboxStatus.PENDING)
    assert rows.count() == 4  # breach: lead + manager; due soon: analyst + lead

    result = outbox.dispatch_outbox()

    assert result["sent"] == 4
    assert len(mail.outbox) == 4
    assert not OutboxMessage.objects.exclude(status=OutboxStatus.SENT).exists()
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}


def test_a_second_dispatch_sends_nothing_more(sent_backlog):
    run_sla_sweep()
    outbox.dispatch_outbox()

    second = outbox.dispatch_outbox()

    assert second["sent"] == 0
    assert len(mail.outbox) == 4


def test_two_senders_at_once_never_send_the_same_row_twice(sent_backlog, monkeypatch):
    run_sla_sweep()
    due = OutboxMessage.objects.filter(status=OutboxStatus.PENDING).count()
    deliver, concurrent = outbox._deliver, []

    def deliver_while_another_sender_runs(message):
        # While the first sender holds its first row, a second one runs to completion over
        # the same due rows (both listed them before either claimed anything else).
        if not concurrent:
            concurrent.append(None)
            concurrent[0] = outbox.dispatch_outbox()
        return deliver(message)

    monkeypatch.setattr(outbox, "_deliver", deliver_while_another_sender_runs)

    first = outbox.dispatch_outbox()

    assert first["due"] == due
    assert first["sent"] + concurrent[0]["sent"] == due
    assert concurrent[0]["sent"] == due - 1
    assert len(mail.outbox) == due
    assert len(set(message_ids())) == due


def test_a_row_left_sending_by_a_dead_worker_is_sent_after_its_lease(sent_backlog, settings):
    settings.OUTBOX_LEASE_SECONDS = 300
    run_sla_sweep()
    stale, fresh, *_ = OutboxMessage.objects.filter(status=OutboxStatus.PENDING).order_by("pk")
    now = timezone.now()
    OutboxMessage.objects.filter(pk=stale.pk).update(
        status=OutboxStatus.SENDING, attempts=1, claimed_at=now - timedelta(seconds=301)
    )
    OutboxMessage.objects.filter(pk=fresh.pk).update(
        status=OutboxStatus.SENDING, attempts=1, claimed_at=now - timedelta(seconds=240)
    )

    result = outbox.dispatch_outbox()

    assert result["requeued"] == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert (stale.status, stale.attempts) == (OutboxStatus.SENT, 2)
    # Still within its lease: its sender may yet finish, so nobody else touches it.
    assert (fresh.status, fresh.attempts) == (OutboxStatus.SENDING, 1)
    assert len(mail.outbox) == 3


def test_emails_have_a_plain_text_and_an_html_part(sent_backlog, users, deliverable):
    run_sla_sweep()

    outbox.dispatch_outbox()

    overdue = [m for m in emails_to(users.bio_lead) if m.subject == "Overdue: Data cleaning log"]
    assert len(overdue) == 1
    email = overdue[0]
    url = f"/deliverables/{deliverable('Data cleaning log').pk}/"
    assert "Overdue: Data cleaning log" in email.body
    assert url in email.body
    assert "<html" not in email.body
    ((html, mimetype),) = email.alternatives
    assert mimetype == "text/html"
    assert "<h2" in html and "Overdue: Data cleaning log" in html and url in html


def test_the_email_message_id_is_stable_across_retries(sent_backlog, users):
    run_sla_sweep()
    row = OutboxMessage.objects.get(user=users.alpha_manager, status=OutboxStatus.PENDING)
    outbox.dispatch_outbox()
    first = emails_to(users.alpha_manager)[0].extra_headers["Message-ID"]
    OutboxMessage.objects.filter(pk=row.pk).update(status=OutboxStatus.PENDING)

    outbox.dispatch_outbox()

    second = emails_to(users.alpha_manager)[1].extra_headers["Message-ID"]
    assert first == second


def test_a_failing_mail_server_leaves_the_row_for_a_retry(sent_backlog, users, settings):
    settings.EMAIL_BACKEND = "tests.sla.broken_mail.EmailBackend"
    run_sla_sweep()

    result = outbox.dispatch_outbox()

    assert result == {"due": 4, "sent": 0, "failed": 4, "requeued": 0}
    row = OutboxMessage.objects.get(user=users.alpha_manager, status=OutboxStatus.PENDING)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    assert row.next_attempt_at > timezone.now()
    assert "E-mail failed" in row.last_error


# Per-user preference.


def test_a_digest_user_gets_no_immediate_email(sent_backlog, users):
    set_email_mode(users.bio_lead, EmailMode.DIGEST)

    run_sla_sweep()
    outbox.dispatch_outbox()

    assert emails_to(users.bio_lead) == []
    assert Notification.objects.filter(user=users.bio_lead, read_at__isnull=True).count() >= 2
    assert len(emails_to(users.alpha_manager)) == 1
    assert len(emails_to(users.bio_analyst)) == 1


def test_a_digest_user_gets_one_digest_of_their_unread_notifications(sent_backlog, users):
    set_email_mode(users.bio_lead, EmailMode.DIGEST)
    run_sla_sweep()
    outbox.dispatch_outbox()
    unread = Notification.objects.filter(user=users.bio_lead, read_at__isnull=True).count()

    assert send_daily_digests() == 1
    outbox.dispatch_outbox()

    (digest,) = emails_to(users.bio_lead)
    assert digest.subject == f"Your KPO digest: {unread} unread notification(s)"
    assert "Overdue: Data cleaning log" in digest.body
    assert "Due soon: Safety signal memo" in digest.body
    ((html, mimetype),) = digest.alternatives
    assert mimetype == "text/html"
    assert "Overdue: Data cleaning log" in html


def test_a_second_digest_run_the_same_day_sends_nothing(sent_backlog, users):
    set_email_mode(users.bio_lead, EmailMode.DIGEST)
    run_sla_sweep()
    send_daily_digests()
    outbox.dispatch_outbox()
    rows = OutboxMessage.objects.count()

    assert send_daily_digests() == 0
    outbox.dispatch_outbox()

    assert OutboxMessage.objects.count() == rows
    assert len(emails_to(users.bio_lead)) == 1


def test_the_digest_leaves_out_what_the_user_has_already_read(sent_backlog, users):
    set_email_mode(users.bio_lead, EmailMode.DIGEST)
    Notification.objects.filter(user=users.bio_lead).update(read_at=timezone.now())
    run_sla_sweep()

    send_daily_digests()
    outbox.dispatch_outbox()

    (digest,) = emails_to(users.bio_lead)
    assert digest.subject == "Your KPO digest: 2 unread notification(s)"


def test_a_digest_user_who_has_read_everything_gets_no_digest(sent_backlog, users):
    set_email_mode(users.bio_lead, EmailMode.DIGEST)
    run_sla_sweep()
    Notification.objects.filter(user=users.bio_lead).update(read_at=timezone.now())

    assert send_daily_digests() == 0


def test_immediate_users_get_no_digest(sent_backlog, users):
    run_sla_sweep()

    assert send_daily_digests() == 0


def test_a_user_who_wants_no_email_gets_none(sent_backlog, users):
    set_email_mode(users.bio_lead, EmailMode.NONE)
    last = OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first()

    run_sla_sweep()
    send_daily_digests()
    outbox.dispatch_outbox()

    assert emails_to(users.bio_lead) == []
    assert not OutboxMessage.objects.filter(user=users.bio_lead, pk__gt=last).exists()
    # Still told in the app.
    assert Notification.objects.filter(user=users.bio_lead, kind="deliverable_breached").exists()
