"""Settings of the Celery worker that the tests in this package start: the project's own,
with the default queue taken from the environment. Every task the worker publishes itself
(the outbox wake-up after a sweep commits) then stays on the queue of the test run that
started it, so two runs sharing one Redis never take each other's work."""

import os

from kpo.settings import *  # noqa: F403

CELERY_TASK_DEFAULT_QUEUE = os.environ["SLA_TEST_QUEUE"]
# No remote-control mailbox: nothing of one run is broadcast to another run's workers.
CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
