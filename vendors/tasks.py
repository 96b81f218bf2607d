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
def expiry_sweep():
    """Warn about certificates and vendor approvals that expire within 30 days."""
    return sla.run_expiry_sweep()
