"""Fixtures of the real-worker tests: a fresh copy of the demo data the worker can see, the
worker processes (always killed in teardown), and the demo data put back for whatever runs
after this package."""

import uuid
from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.sla_worker.support")

from .support import (  # noqa: E402
    LiveStack,
    purge_queue,
    seed_demo,
    web_broker,
    worker_broker_url,
)

HERE = Path(__file__).parent


def _uses_database(item) -> bool:
    return item.get_closest_marker("django_db") is not None or bool(
        {"db", "transactional_db", "live_server"} & set(getattr(item, "fixturenames", ()))
    )


@pytest.fixture(scope="package", autouse=True)
def _demo_data_back_afterwards(request, django_db_blocker):
    """pytest-django runs transactional tests after the others, but flushes every table after
    each one: when a database test still follows this package, rebuild the session's demo
    data for it."""
    yield
    items = request.session.items
    ours = [i for i, item in enumerate(items) if item.path.is_relative_to(HERE)]
    if not any(_uses_database(item) for item in items[max(ours, default=len(items)) + 1 :]):
        return
    # The rebuild's outbox wake-ups go to a queue of their own, removed afterwards.
    url, queue = worker_broker_url(), f"sla-tests-{uuid.uuid4().hex[:12]}"
    try:
        with django_db_blocker.unblock(), web_broker(url, queue):
            seed_demo()
    finally:
        purge_queue(url, queue)


@pytest.fixture
def stack(transactional_db, tmp_path):
    """This test's workers, queue and mailbox. The test process publishes to the same queue,
    as the web processes of a deployment share the workers' broker."""
    live = LiveStack(tmp_path)
    try:
        with web_broker(live.broker_url, live.queue):
            yield live
    finally:
        live.close()


@pytest.fixture
def demo(stack):
    """The demo data, committed (a previous transactional test may have flushed it)."""
    seed_demo(cheap_passwords=True)
