"""Throughput and latency of the main HTML pages on the scale dataset, next to bare baselines.

    .venv/bin/python bench/seed_scale.py --scale 1          # once: builds kpo_scale
    .venv/bin/python bench/pages.py [--database-url postgres://…/kpo_scale] [--requests 50]

Like bench/api.py (gunicorn, 2 workers, loopback keep-alive clients at concurrency 1 and 4),
for the pages a person opens most, each against a bare view that runs the hand-written
queries for the same rows and writes them out as a plain HTML table
(bench/baseline_views.py):
- the dashboard of bench.manager (client manager, 500 engagements at --scale 1) and of
  bench.analyst (provider work dashboard);
- the overview of bench.manager's engagement with 60,000 audit events;
- a deliverable of that engagement with several versions;
- the scorecard page of the largest provider (100,000 deliverables), as its admin.

Sessions are made directly in the session store (no password check per run). The provider
admin's session is marked verified by a TOTP device (django_otp's `otp_device_id`), as
admins' browser sessions need a second factor.
"""

import argparse
import sys
import tempfile

sys.path.insert(0, __file__.rsplit("/", 1)[0])

from common import DEFAULT_DATABASE_URL, Server, read_state, run_pairs, setup_django


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--requests", type=int, default=50, help="per page and concurrency")
    parser.add_argument("--concurrency", default="1,4", help="comma-separated (default 1,4)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    return parser.parse_args()


def session_cookie(username: str, verified: bool = False) -> str:
    """A signed-in session for `username`, as the login view would leave it."""
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore

    user = get_user_model().objects.get(username=username)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if verified:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device, _ = TOTPDevice.objects.get_or_create(
            user=user, name="bench", defaults={"confirmed": True}
        )
        session["otp_device_id"] = device.persistent_id
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def pages(state: dict) -> list[dict]:
    def browser(cookie):
        return {"Cookie": cookie, "Accept": "text/html"}

    manager = browser(session_cookie("bench.manager"))
    analyst = browser(session_cookie("bench.analyst"))
    admin = browser(session_cookie("bench.padmin", verified=True))
    engagement, deliverable, provider = (
        state["audit_engagement"],
        state["deliverable"],
        state["provider"],
    )
    return [
        {
            "name": "dashboard (client manager)",
            "app": "/",
            "base": "/baseline/pages/dashboard/",
            "headers": manager,
        },
        {
            "name": "dashboard (analyst)",
            "app": "/",
            "base": "/baseline/pages/dashboard/",
            "headers": analyst,
        },
        {
            "name": "engagement detail",
            "app": f"/engagements/{engagement}/",
            "base": f"/baseline/pages/engagements/{engagement}/",
            "headers": manager,
        },
        {
            "name": "deliverable detail",
            "app": f"/deliverables/{deliverable}/",
            "base": f"/baseline/pages/deliverables/{deliverable}/",
            "headers": manager,
        },
        {
            "name": f"scorecard ({state['provider_deliverables']:,} deliverables)",
            "app": f"/providers/{provider}/scorecard/",
            "base": f"/baseline/pages/providers/{provider}/scorecard/",
            "headers": admin,
        },
    ]


def main() -> None:
    args = parse_args()
    state = read_state(args.database_url)
    setup_django(args.database_url, tempfile.mkdtemp(prefix="kpo-bench-pages-"))
    pairs = pages(state)
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    print(
        f"Pages on {args.database_url.rsplit('/', 1)[-1]} (--scale {state['scale']}), "
        f"gunicorn {args.workers} workers, {args.requests} requests per row"
    )
    with Server(args.database_url, workers=args.workers) as server:
        run_pairs(server.port, pairs, args.requests, concurrencies, "Pages")


if __name__ == "__main__":
    main()
