"""Settings of the drills' Celery workers: those of tests/sla_worker (the default queue from
the environment, no remote control), with Redis's visibility timeout taken from the
environment and checked every second, so that a task a killed worker held comes back within
seconds instead of the hour production waits."""

from kpo.env import env_int
from tests.sla_worker.worker_settings import *  # noqa: F403
from tests.sla_worker.worker_settings import CELERY_BROKER_TRANSPORT_OPTIONS

CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "visibility_timeout": env_int("DRILL_VISIBILITY_TIMEOUT", 3600),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
