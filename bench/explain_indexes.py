"""EXPLAIN (ANALYZE) of the app's own queries on the scale dataset, without and with each
index that the scale benchmarks called for.

    .venv/bin/python bench/explain_indexes.py [--database-url postgres://…/kpo_scale]
        [--proposed]

Each query is taken as the app runs it: the app's function is called, its SQL captured,
and the slowest statement that reads the indexed table is explained twice, first in a
transaction that drops the index (rolled back, so nothing changes), then as it is.
`--proposed` adds an index that the app does not have yet (it is created in a rolled-back
transaction, twice: a few minutes on 3,000,000 audit events).
"""

import argparse
import sys
import tempfile

sys.path.insert(0, __file__.rsplit("/", 1)[0])

from common import DEFAULT_DATABASE_URL, read_state, setup_django

PROPOSED_AUDIT_INDEX = (
    "CREATE INDEX audit_target_idx ON audit_auditevent (target_type_id, target_id, id DESC)"
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--proposed", action="store_true", help="also the proposed audit index")
    return parser.parse_args()


def captured(function, table: str) -> str:
    """The slowest statement reading `table` that `function` runs."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        function()
    reading = [q for q in queries.captured_queries if f'FROM "{table}"' in q["sql"]]
    return max(reading, key=lambda q: float(q["time"]))["sql"]


def explain(sql: str, before: str | None = None) -> list[str]:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        if before:
            cursor.execute(before)
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        plan = [row[0] for row in cursor.fetchall()]
        transaction.set_rollback(True)
    return plan


def show(title: str, index: str, sql: str, *, drop: bool = True) -> None:
    print(f"\n### {title}\n\nindex: {index}\n")
    # Each plan is the second of two runs, so that neither side pays for a cold cache.
    without = [explain(sql, f"DROP INDEX {index}" if drop else None) for _ in range(2)][-1]
    with_ = [explain(sql, None if drop else PROPOSED_AUDIT_INDEX) for _ in range(2)][-1]
    for label, plan in (("without the index", without), ("with the index", with_)):
        print(f"{label}:\n```")
        print("\n".join(plan))
        print("```")


def main() -> None:
    args = parse_args()
    state = read_state(args.database_url)
    setup_django(args.database_url, tempfile.mkdtemp(prefix="kpo-bench-explain-"))
    from django.contrib.auth import get_user_model
    from django.db.models import OuterRef

    from deliverables import views as deliverable_views
    from deliverables.models import Deliverable
    from engagements.models import Engagement
    from kpo.accounts.selectors import AT_RISK_OR_BREACHED, _count_of
    from vendors.models import Provider

    users = get_user_model().objects
    manager = users.get(username="bench.manager")
    padmin = users.get(username="bench.padmin")
    deliverables = "deliverables_deliverable"

    print(f"# EXPLAIN on {args.database_url.rsplit('/', 1)[-1]} (--scale {state['scale']})")

    # The client dashboard's "needs attention" list (kpo.accounts.selectors._attention_rows).
    sql = captured(
        lambda: list(
            Deliverable.objects.restrict(manager, "view")
            .filter(AT_RISK_OR_BREACHED)
            .order_by("due_at", "id")[:10]
        ),
        deliverables,
    )
    show(
        "Open work at risk or breached, most urgent first (dashboard)",
        "deliverable_attention_due_idx",
        sql,
    )

    # A restricted, filtered API list: its count (PageNumberPagination).
    for field, value, index in (
        ("status", "accepted", "deliverable_engagement_status_idx"),
        ("sla_state", "breached", "deliverable_engagement_sla_idx"),
    ):
        sql = captured(
            lambda f=field, v=value: (
                Deliverable.objects.restrict(padmin, "view").filter(**{f: v}).count()
            ),
            deliverables,
        )
        show(
            f"GET /api/v1/deliverables/?{field}={value} as the provider admin: the count",
            index,
            sql,
        )

    # The client dashboard's providers, each with the number of the user's engagements.
    def providers():
        engagements = Engagement.objects.restrict(manager, "view")
        return list(
            Provider.objects.filter(pk__in=engagements.values("provider_id"))
            .annotate(engagement_count=_count_of(engagements.filter(provider=OuterRef("pk"))))
            .order_by("-engagement_count", "name")[:3]
        )

    sql = captured(providers, "vendors_provider")
    show(
        "The dashboard's providers with their engagement counts",
        "engagement_client_visible_idx",
        sql,
    )

    if args.proposed:
        deliverable = Deliverable.objects.select_related("engagement").get(pk=state["deliverable"])
        sql = captured(
            lambda: deliverable_views._audit_events(manager, deliverable), "audit_auditevent"
        )
        show(
            "A deliverable page's activity (deliverables.views._audit_events): PROPOSED",
            "audit_target_idx",
            sql,
            drop=False,
        )


if __name__ == "__main__":
    main()
