"""One beat schedule of thin tasks, and a Celery configuration that never loses or doubles
work: late acknowledgement, re-delivery when a worker dies, one message at a time."""

import pytest
from django.conf import settings
from django.db import DatabaseError

from kpo import celery_app
from kpo.notifications.choices import NotificationKind as K
from kpo.notifications.models import Notification


@pytest.fixture(scope="module")
def registered():
    # What a worker does at start-up: import every app's tasks module.
    celery_app.loader.import_default_modules()
    return set(celery_app.tasks)


def test_the_sla_sweep_runs_every_sla_sweep_seconds():
    entry = settings.CELERY_BEAT_SCHEDULE["sla-sweep"]

    assert entry["task"] == "deliverables.tasks.sla_sweep"
    assert entry["schedule"] == settings.SLA_SWEEP_SECONDS
    assert celery_app.conf.beat_schedule["sla-sweep"]["schedule"] == settings.SLA_SWEEP_SECONDS


def test_the_outbox_is_sent_at_the_same_interval():
    entry = settings.CELERY_BEAT_SCHEDULE["send-outbox"]

    assert entry["task"] == "kpo.notifications.tasks.send_outbox"
    assert entry["schedule"] == settings.SLA_SWEEP_SECONDS


def test_the_digest_runs_daily_at_the_configured_hour():
    schedule = settings.CELERY_BEAT_SCHEDULE["daily-digest"]["schedule"]

    assert schedule.hour == {settings.DIGEST_HOUR_UTC}
    assert schedule.minute == {0}


def test_every_scheduled_task_is_registered(registered):
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert scheduled == {
        "deliverables.tasks.sla_sweep",
        "kpo.notifications.tasks.send_outbox",
        "kpo.notifications.tasks.send_daily_digests",
        "vendors.tasks.expiry_sweep",
    }
    assert scheduled <= registered


def test_workers_acknowledge_late_and_take_one_message_at_a_time():
    conf = celery_app.conf

    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1


def test_publishing_gives_up_quickly_instead_of_holding_a_request():
    conf = celery_app.conf

    assert conf.task_publish_retry is False
    assert 0 < conf.broker_connection_timeout <= 5
    assert conf.task_always_eager is False


def test_the_tasks_retry_database_errors_a_bounded_number_of_times(registered):
    for name in ("deliverables.tasks.sla_sweep", "kpo.notifications.tasks.send_outbox"):
        task = celery_app.tasks[name]
        assert DatabaseError in task.autoretry_for
        assert 0 < task.max_retries <= 10
        assert task.retry_backoff


def test_the_sweep_task_is_a_thin_wrapper_over_the_service(registered, deliverable):
    result = celery_app.tasks["deliverables.tasks.sla_sweep"].apply().get()

    assert result["fired"] == 2
    log = deliverable("Data cleaning log")
    assert Notification.objects.filter(deliverable=log, kind=K.DELIVERABLE_BREACHED).count() == 2
