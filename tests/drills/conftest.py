"""Fixtures of the failure drills. For the whole package: a private PostgreSQL cluster,
migrated and seeded with the demo once, and a private Redis. For each drill: the app under
gunicorn and Celery workers on them. Everything is stopped in teardown, on failure too, and
a drill that failed with a server down leaves it running again for the next one."""

from dataclasses import dataclass

import pytest

pytest.register_assert_rewrite("tests.drills.support", "tests.sla_worker.support")

from tests.sla_worker.support import web_broker  # noqa: E402

from .servers import (  # noqa: E402
    Database,
    Gunicorn,
    PostgresServer,
    RedisServer,
    app_environment,
    manage,
    postgres_missing,
    redis_missing,
)
from .support import DrillStack  # noqa: E402

# The seed's e-mails are written to memory and forgotten: every drill starts with an outbox
# that has nothing left to send, so what it sends is its own. Webhook deliveries would go to
# addresses off this machine: the demo has none, and this stops if it ever does.
SEND_THE_SEED_OUTBOX = """
from kpo.notifications.models import OutboxMessage
from kpo.notifications.outbox import dispatch_outbox
assert not OutboxMessage.objects.filter(channel="webhook").exists(), "demo webhooks"
while dispatch_outbox()["due"]:
    pass
"""


@dataclass
class Servers:
    postgres: PostgresServer
    redis: RedisServer


@pytest.fixture(scope="package")
def servers(tmp_path_factory):
    missing = postgres_missing() or redis_missing()
    if missing:
        pytest.skip(f"The failure drills {missing}.")
    postgres = PostgresServer()
    redis_server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        postgres.init()
        postgres.start()
        postgres.create_database()
        redis_server.start()
        env = app_environment(
            postgres,
            redis_server,
            tmp_path_factory.mktemp("seed"),
            DJANGO_SETTINGS_MODULE="tests.drills.seed_settings",
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        )
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo")
        manage(env, "shell", "-c", SEND_THE_SEED_OUTBOX)
        redis_server.flush()
        yield Servers(postgres, redis_server)
    finally:
        try:
            redis_server.stop()
        finally:
            postgres.destroy()


@pytest.fixture
def sql(servers):
    """Plain SQL on the private database, for what the drill reads back."""
    database = Database(servers.postgres)
    yield database
    database.close()


@pytest.fixture(autouse=True)
def _servers_running_afterwards(request):
    yield
    if "servers" not in request.fixturenames:
        return
    servers = request.getfixturevalue("servers")
    if not servers.postgres.running():
        servers.postgres.start()
    if not servers.redis.ping():
        servers.redis.start()


@pytest.fixture
def serve(servers, tmp_path):
    """`serve(**env)`: the app under gunicorn on the private servers, DEBUG off."""
    started = []

    def start(**env) -> Gunicorn:
        # The drills' clients ask as fast as they are answered; the rate limits are not
        # what is drilled here.
        limits = {f"API_THROTTLE_{scope}": "100000/minute" for scope in ("USER", "TOKEN", "ANON")}
        app = Gunicorn(
            app_environment(servers.postgres, servers.redis, tmp_path / "web", **limits, **env),
            tmp_path / f"gunicorn-{len(started)}.log",
        )
        started.append(app)
        return app.start()

    try:
        yield start
    finally:
        for app in started:
            app.stop()


@pytest.fixture
def stack(servers, sql, tmp_path):
    """This drill's Celery workers and mailbox; meanwhile this process publishes beat's ticks
    to the private Redis."""
    live = DrillStack(tmp_path, servers.postgres, servers.redis, sql)
    try:
        with web_broker(live.broker_url, live.queue):
            yield live
    finally:
        live.close()
