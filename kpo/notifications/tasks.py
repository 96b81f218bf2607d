from celery import shared_task
from django.db import DatabaseError

from . import outbox, services

RETRY = {
    "autoretry_for": (DatabaseError,),
    "retry_backoff": 5,
    "retry_backoff_max": 120,
    "max_retries": 5,
    "retry_jitter": True,
}


@shared_task(**RETRY)
def send_outbox():
    """Send due e-mails and webhook deliveries. Failed rows are retried by later runs at the
    time their back-off sets, so this task never waits on a long ETA."""
    return outbox.dispatch_outbox()


@shared_task(**RETRY)
def send_daily_digests():
    return services.send_daily_digests()
