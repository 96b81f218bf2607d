"""Throughput and latency of the main API reads on the scale dataset, next to bare baselines.

    .venv/bin/python bench/seed_scale.py --scale 1          # once: builds kpo_scale
    .venv/bin/python bench/api.py [--database-url postgres://…/kpo_scale] [--requests 100]

Starts gunicorn (2 workers, DEBUG off) on the database that bench/seed_scale.py built, then
from this process, over loopback keep-alive connections, sends `--requests` GETs to each
endpoint with 1 and then 4 concurrent clients, and the same number to a bare Django view
that serves the same rows as `.values()` of a hand-written query with the same filter
(bench/baseline_views.py). Prints req/s, p50 and p95 for both and the ratio of the p50s.

The endpoints, as the subjects seed_scale.py made (each with a DRF token):
- deliverables list, page_size=100: bench.manager (client manager, 500 engagements at
  --scale 1) and bench.analyst (one team of the largest provider);
- an engagement's detail and its audit list at page 1 and at page 1,000 (cursor), as
  bench.manager, on the engagement with 60,000 events;
- the scorecard of the largest provider (100,000 deliverables at --scale 1), as its admin;
- a knowledge search for "survival analysis", as bench.manager.
"""

import argparse
import base64
import sys
from urllib.parse import quote

sys.path.insert(0, __file__.rsplit("/", 1)[0])

from common import DEFAULT_DATABASE_URL, Server, connect, read_state, run_pairs

AUDIT_PAGE = 1_000
AUDIT_PAGE_SIZE = 50


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--requests", type=int, default=100, help="per endpoint and concurrency")
    parser.add_argument("--concurrency", default="1,4", help="comma-separated (default 1,4)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    return parser.parse_args()


def audit_cursor(url: str, engagement: int) -> tuple[str, int]:
    """DRF's cursor for page AUDIT_PAGE of the engagement's audit list (newest first): the
    id of the last event of the page before it, as CursorPagination encodes it."""
    connection = connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM audit_auditevent WHERE engagement_id = %s "
                "ORDER BY id DESC OFFSET %s LIMIT 1",
                (engagement, (AUDIT_PAGE - 1) * AUDIT_PAGE_SIZE - 1),
            )
            position = cursor.fetchone()[0]
    finally:
        connection.close()
    return base64.b64encode(f"p={position}".encode()).decode(), position


def endpoints(url: str, state: dict) -> list[dict]:
    tokens = state["tokens"]

    def auth(name):
        return {"Authorization": f"Token {tokens[name]}", "Accept": "application/json"}

    engagement, provider = state["audit_engagement"], state["provider"]
    cursor, position = audit_cursor(url, engagement)
    search = quote(state["search"])
    return [
        {
            "name": "deliverables ?page_size=100 (manager)",
            "app": "/api/v1/deliverables/?page_size=100",
            "base": "/baseline/deliverables/?page_size=100",
            "headers": auth("bench.manager"),
        },
        {
            "name": "deliverables ?page_size=100 (analyst)",
            "app": "/api/v1/deliverables/?page_size=100",
            "base": "/baseline/deliverables/?page_size=100",
            "headers": auth("bench.analyst"),
        },
        {
            "name": "engagement detail",
            "app": f"/api/v1/engagements/{engagement}/",
            "base": f"/baseline/engagements/{engagement}/",
            "headers": auth("bench.manager"),
        },
        {
            "name": "audit page 1",
            "app": f"/api/v1/engagements/{engagement}/audit/",
            "base": f"/baseline/engagements/{engagement}/audit/",
            "headers": auth("bench.manager"),
        },
        {
            "name": f"audit page {AUDIT_PAGE:,} (cursor)",
            "app": f"/api/v1/engagements/{engagement}/audit/?cursor={quote(cursor)}",
            "base": f"/baseline/engagements/{engagement}/audit/?before={position}",
            "headers": auth("bench.manager"),
        },
        {
            "name": f"scorecard ({state['provider_deliverables']:,} deliverables)",
            "app": f"/api/v1/providers/{provider}/scorecard/",
            "base": f"/baseline/providers/{provider}/scorecard/",
            "headers": auth("bench.padmin"),
        },
        {
            "name": f"knowledge ?q={state['search']}",
            "app": f"/api/v1/knowledge/?q={search}",
            "base": f"/baseline/knowledge/?q={search}",
            "headers": auth("bench.manager"),
        },
    ]


def main() -> None:
    args = parse_args()
    state = read_state(args.database_url)
    pairs = endpoints(args.database_url, state)
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    print(
        f"API on {args.database_url.rsplit('/', 1)[-1]} (--scale {state['scale']}), "
        f"gunicorn {args.workers} workers, {args.requests} requests per row"
    )
    with Server(args.database_url, workers=args.workers) as server:
        run_pairs(server.port, pairs, args.requests, concurrencies, "API")


if __name__ == "__main__":
    main()
