"""Failure drill: Redis — the broker, and the cache behind the API rate limits — disappears
under the running app and comes back empty. Meanwhile the app serves pages and the API
(the rate limits fail open) and takes an analyst's submission; its e-mails wait in the
outbox, the database, since nothing queued in Redis survives. Once Redis is back the same
worker, never restarted, reconnects; beat's next ticks send the waiting e-mails, and the
app's own wake-ups work again at once. Every e-mail goes out exactly once, none is lost.

tests/sla_worker/test_broker_outage.py proves the same of a broker that refuses, in
process; this drill is the whole story across real processes."""

import time

import pytest
import requests

from tests.sla_worker.support import SEND_OUTBOX

from .support import PDF, api_headers, assert_each_sent_once, browser, last_outbox_id, outbox_rows

pytestmark = pytest.mark.drills

# A request with Redis away may cost a failed connection attempt, never a hang.
QUICK = 3.0


def timed(call):
    started = time.perf_counter()
    response = call()
    return response, time.perf_counter() - started


def test_with_redis_gone_the_app_serves_and_takes_a_submission_and_its_emails_go_out_once_after(
    servers, serve, stack, sql
):
    app = serve()
    [worker] = stack.start_workers(concurrency=2)
    analyst = api_headers(app.base_url, "bio.analyst")
    qa = api_headers(app.base_url, "bio.qa")
    manager = browser(app.base_url, "alpha.manager")
    memo = sql.value("SELECT id FROM deliverables_deliverable WHERE title = 'Safety signal memo'")
    start = last_outbox_id(sql)

    servers.redis.stop()
    try:
        # Serving: a page and the API, each answered quickly.
        page, page_took = timed(
            lambda: manager.get(f"{app.base_url}/deliverables/{memo}/", timeout=30)
        )
        listing, list_took = timed(
            lambda: requests.get(
                f"{app.base_url}/api/v1/deliverables/", headers=analyst, timeout=30
            )
        )
        # Taking work: the analyst submits the memo.
        submitted, submit_took = timed(
            lambda: requests.post(
                f"{app.base_url}/api/v1/deliverables/{memo}/submissions/",
                headers=analyst,
                files={"file": ("Safety memo v1.pdf", PDF, "application/pdf")},
                data={"notes": "Sent while Redis was away."},
                timeout=30,
            )
        )
        waiting = outbox_rows(sql, start)
        worker_alive = worker.process.poll() is None
    finally:
        servers.redis.start()

    assert page.status_code == 200, page.text[:2000]
    assert "Safety signal memo" in page.text
    assert listing.status_code == 200, listing.text[:2000]
    assert submitted.status_code == 201, submitted.text[:2000]
    assert max(page_took, list_took, submit_took) < QUICK, (page_took, list_took, submit_took)
    # The QA reviewer's and the team lead's e-mails wait in the outbox; the worker waits for
    # its broker.
    assert sorted(r["username"] for r in waiting) == ["bio.lead", "bio.qa"]
    assert {r["status"] for r in waiting} == {"pending"}
    assert worker_alive

    # Redis is back, empty. Beat's ticks reach the same worker once it has reconnected.
    stack.wait_until(
        lambda: {r["status"] for r in outbox_rows(sql, start)} == {"sent"},
        timeout=60,
        every={SEND_OUTBOX: 1.0},
        what="the submission's e-mails after Redis came back",
    )
    assert worker.process.poll() is None
    assert "Connection to broker lost" in worker.log()

    # The app's own wake-ups work again: QA passes the memo and the client hears at once,
    # with no beat tick.
    before_qa = last_outbox_id(sql)
    passed = requests.post(
        f"{app.base_url}/api/v1/deliverables/{memo}/qa/",
        headers=qa,
        json={"decision": "pass", "comment": "Fine."},
        timeout=30,
    )
    assert passed.status_code == 201, passed.text[:2000]
    stack.wait_until(
        lambda: (rows := outbox_rows(sql, before_qa)) and {r["status"] for r in rows} == {"sent"},
        timeout=30,
        what="the review request e-mails, woken by the app itself",
    )

    # Nothing sent twice, nothing lost: every row of the drill was sent on its first attempt
    # and written once, and a later tick finds nothing left.
    assert stack.run_once_more(SEND_OUTBOX)[SEND_OUTBOX]["sent"] == 0
    rows = outbox_rows(sql, start)
    assert_each_sent_once(rows, stack.mailbox.message_ids())
    assert sorted(m["To"] for m in stack.mailbox.messages()) == sorted(r["email"] for r in rows)
    assert outbox_rows(sql, before_qa), "the QA pass told no one"
    print(
        f"\nRedis away: page {page_took:.2f}s, API list {list_took:.2f}s, submission "
        f"{submit_took:.2f}s; {len(rows)} e-mails after it came back, each sent once"
    )
