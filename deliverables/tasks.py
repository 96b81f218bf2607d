from celery import shared_task
from django.db import DatabaseError

from . import sla


@shared_task(
    autoretry_for=(DatabaseError,),
    retry_backoff=5,
    retry_backoff_max=120,
    max_retries=5,
    retry_jitter=True,
)
def sla_sweep():
    """Fire due-soon, breach and review reminders that have come due."""
    return sla.run_sla_sweep()
