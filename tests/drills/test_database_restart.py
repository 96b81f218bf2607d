"""Failure drill: PostgreSQL restarts under the running app (gunicorn, DEBUG off, as in
production). While it is away, an integration listing deliverables and a person on a page
get a clean 503 with Retry-After — JSON for the API, a short page otherwise, never a 500 or
a traceback — and once it is back their requests succeed again with no restart of the app.

Run with a connection per request and with persistent connections (production's default):
a persistent connection dies with the server, and the health check must replace it."""

import json
import time
from collections import Counter

import pytest
import requests

from .support import LEAKS, Prober, api_headers, browser

pytestmark = pytest.mark.drills

# The outage lasts at least this long, and until both clients have been answered during it.
OUTAGE_SECONDS = 2
RECOVERY_SECONDS = 15


def answered(answers, phase, name, status) -> int:
    return sum(1 for a in answers if (a.phase, a.name, a.status) == (phase, name, status))


def recovered(answers) -> bool:
    """Both clients' last three answers after the restart were successes."""
    after = [a for a in answers if a.phase == "after"]
    return all(
        len(mine) >= 3 and all(a.status == 200 for a in mine[-3:])
        for mine in ([a for a in after if a.name == name] for name in ("api", "page"))
    )


def describe(answer) -> str:
    return f"{answer.phase} {answer.name} {answer.status} {answer.error} {answer.body[:300]!r}"


@pytest.mark.parametrize(
    "conn_max_age", [0, 60], ids=["connection-per-request", "persistent-connections"]
)
def test_requests_during_a_database_restart_get_a_clean_503_and_succeed_again_after_it(
    conn_max_age, servers, serve, sql
):
    app = serve(DB_CONN_MAX_AGE=conn_max_age)
    token = api_headers(app.base_url, "bio.analyst")
    person = browser(app.base_url, "alpha.manager")
    prober = Prober(
        {
            "api": lambda timeout: requests.get(
                f"{app.base_url}/api/v1/deliverables/", headers=token, timeout=timeout
            ),
            "page": lambda timeout: person.get(
                f"{app.base_url}/engagements/", allow_redirects=False, timeout=timeout
            ),
        }
    )
    workers = app.worker_pids()
    prober.start()
    try:
        prober.wait_for(
            lambda a: (
                answered(a, "before", "api", 200) >= 3 and answered(a, "before", "page", 200) >= 3
            ),
            timeout=30,
            what="three answers to each client before the restart",
        )
        if conn_max_age:
            # The app holds connections open between requests: they die with the server.
            assert sql.value(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND state = 'idle' "
                "AND pid <> pg_backend_pid()"
            ), "no persistent connection of the app to drop"
        sql.close()

        prober.phase = "restart"
        servers.postgres.stop()
        stopped = time.monotonic()
        prober.wait_for(
            lambda a: (
                answered(a, "restart", "api", 503) >= 2 and answered(a, "restart", "page", 503) >= 2
            ),
            timeout=30,
            what="two 503s to each client while the database is away",
        )
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped)))
        servers.postgres.start()
        prober.phase = "after"
        back = time.monotonic()
        prober.wait_for(recovered, timeout=RECOVERY_SECONDS, what="success after the restart")
        recovery = time.monotonic() - back
    finally:
        prober.stop()

    answers = prober.answers
    # Every request had an answer, and none of them was an error of the app.
    unclean = [describe(a) for a in answers if a.status not in (200, 503)]
    assert not unclean, unclean[:10]
    assert {a.status for a in answers if a.phase == "before"} == {200}

    for answer in (a for a in answers if a.status == 503):
        assert answer.headers.get("Retry-After", "").isdigit(), describe(answer)
        assert not any(leak in answer.body for leak in LEAKS), describe(answer)
        content_type = answer.headers.get("Content-Type", "")
        if answer.name == "api":
            assert content_type == "application/json", describe(answer)
            assert "temporarily unavailable" in json.loads(answer.body)["detail"]
        else:
            assert content_type.startswith("text/html"), describe(answer)
            assert "Temporarily unavailable" in answer.body

    # Back without restarting anything: once a client succeeds again it keeps succeeding,
    # the same gunicorn master and workers serving it.
    for name in ("api", "page"):
        after = [a.status for a in answers if a.phase == "after" and a.name == name]
        assert 503 not in after[after.index(200) :], after
    assert recovery < RECOVERY_SECONDS
    assert app.process.poll() is None
    assert app.worker_pids() == workers
    assert "Database unavailable" in app.log()
    statuses = Counter((a.phase, a.status) for a in answers)
    print(
        f"\nDB_CONN_MAX_AGE={conn_max_age}: {dict(statuses)}; "
        f"success again {recovery:.2f}s after the database was back"
    )
