"""Time one full SLA sweep over N open deliverables whose breach reminders have come due,
next to the equivalent hand-written SQL on the same data.

    DATABASE_URL=postgres://user:pass@host:5432/kpo python bench/sla_sweep.py [--n 200000]

PostgreSQL only (the sweep's claim uses `SELECT … FOR UPDATE SKIP LOCKED`, and the
figures are meant for production). The script never touches the database named in
DATABASE_URL: it creates a scratch database on the same server (`kpo_bench` unless
`--database` says otherwise), migrates it, seeds the demo and the N deliverables with bulk
inserts, measures, and drops it again (keep it with `--keep`).

What is measured:
- `run_sla_sweep()` exactly as the beat runs it: chunks of 500, one transaction per chunk,
  each escalation written as notifications, e-mail outbox rows, an audit event and the new
  `sla_state`. Queries are counted with a `connection.execute_wrapper`.
- the hand-written SQL: one statement, an `UPDATE … RETURNING` that claims the due
  reminders feeding an `INSERT … SELECT` of the notifications, in a transaction that is
  rolled back. It does less (no e-mail rows, audit events or state change, no chunking),
  so the ratio is an upper bound on what the ORM costs.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SEED_BATCH = 5_000

HAND_WRITTEN_SQL = """
WITH due AS (
    UPDATE deliverables_slareminder AS r
       SET status = 'sent', sent_at = %(now)s
      FROM deliverables_deliverable AS d
      JOIN engagements_engagement AS e ON e.id = d.engagement_id
     WHERE r.deliverable_id = d.id
       AND r.status = 'pending'
       AND e.status = 'active'
       AND ((r.kind = 'breach' AND r.fire_at < %(now)s)
            OR (r.kind <> 'breach' AND r.fire_at <= %(now)s))
 RETURNING r.kind, r.due_time, d.id AS deliverable_id, d.title, d.engagement_id,
           e.reference, e.provider_lead_id, e.client_manager_id
), notified AS (
    INSERT INTO notifications_notification
           (user_id, kind, title, body, url, engagement_id, deliverable_id, key, created_at)
    SELECT who.user_id,
           'deliverable_breached',
           left('Overdue: ' || due.title, 200),
           'Was due ' || to_char(due.due_time AT TIME ZONE 'UTC', 'DD Mon YYYY HH24:MI')
               || ' UTC · ' || due.reference,
           '/deliverables/' || due.deliverable_id || '/',
           due.engagement_id,
           due.deliverable_id,
           'sla:breach:' || due.deliverable_id || ':'
               || extract(epoch FROM due.due_time) || ':' || who.user_id,
           %(now)s
      FROM due
      CROSS JOIN LATERAL (VALUES (due.provider_lead_id), (due.client_manager_id)) AS who(user_id)
     WHERE due.kind = 'breach' AND who.user_id IS NOT NULL
        ON CONFLICT DO NOTHING
 RETURNING 1
)
SELECT (SELECT count(*) FROM due), (SELECT count(*) FROM notified)
"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200_000, help="open deliverables to seed")
    parser.add_argument(
        "--database", default="kpo_bench", help="scratch database to create and drop"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    if args.n < 1:
        parser.error("--n must be at least 1")
    return args


def fail(message: str) -> None:
    print(f"bench/sla_sweep.py: {message}", file=sys.stderr)
    sys.exit(2)


def postgres_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    scheme = urlsplit(url).scheme
    if not url or scheme.startswith("sqlite"):
        fail(
            "needs PostgreSQL. Set DATABASE_URL=postgres://user:password@host:5432/dbname "
            "(SQLite is refused: no SKIP LOCKED, and its figures say nothing about production)."
        )
    if scheme not in ("postgres", "postgresql", "pgsql", "postgis"):
        fail(f"DATABASE_URL must be a PostgreSQL URL, not {scheme}://")
    return url


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def server_connection(url: str):
    """An autocommit connection for CREATE/DROP DATABASE: to the server's `postgres`
    maintenance database, or else to the one in DATABASE_URL."""
    import psycopg2

    parts = urlsplit(url)
    error = None
    for dbname in ("postgres", parts.path.lstrip("/"), "template1"):
        try:
            connection = psycopg2.connect(
                host=parts.hostname or "localhost",
                port=parts.port or 5432,
                user=parts.username,
                password=parts.password,
                dbname=dbname,
            )
        except psycopg2.OperationalError as exc:
            error = exc
            continue
        connection.autocommit = True
        return connection
    fail(f"cannot connect to the PostgreSQL server of DATABASE_URL: {error}")


def drop_database(url: str, name: str) -> None:
    server = server_connection(url)
    try:
        with server.cursor() as cursor:
            force = " WITH (FORCE)" if server.server_version >= 130000 else ""
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"{force}')
    finally:
        server.close()


def create_database(url: str, name: str) -> None:
    drop_database(url, name)  # a leftover of an interrupted run
    server = server_connection(url)
    try:
        with server.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        server.close()


class Progress:
    """tqdm when it is installed, otherwise a percentage on one line."""

    def __init__(self, total: int, label: str):
        self.total, self.label, self.done, self.shown = total, label, 0, -1
        try:
            from tqdm import tqdm
        except ImportError:
            self.bar = None
        else:
            self.bar = tqdm(total=total, desc=label, unit="rows", unit_scale=True)

    def update(self, count: int) -> None:
        self.done += count
        if self.bar is not None:
            self.bar.update(count)
            return
        percent = self.done * 100 // self.total
        if percent != self.shown:
            self.shown = percent
            print(f"\r{self.label}: {percent:3d}% ({self.done:,}/{self.total:,})", end="")
            sys.stdout.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        else:
            print()


def seed(n: int, now):
    """N in-progress Phase II deliverables, each with a breach reminder that came due between
    one and 49 hours ago. Bulk inserts: this is the sweep's input, not what is measured."""
    from django.db import transaction

    from deliverables.choices import DeliverableStatus, ReminderKind, SlaState
    from deliverables.models import Deliverable, SlaReminder
    from engagements.models import Engagement
    from kpo.accounts.models import User

    engagement = Engagement.objects.get(title="Phase II oncology trial analysis")
    analyst = User.objects.get(username="bio.analyst")
    progress = Progress(n, "seeding")
    for start in range(0, n, SEED_BATCH):
        size = min(SEED_BATCH, n - start)
        with transaction.atomic():
            items = Deliverable.objects.bulk_create(
                Deliverable(
                    engagement=engagement,
                    title=f"Site data listing {start + i + 1}",
                    due_at=now - timedelta(hours=1, seconds=(start + i) % 172_800),
                    assignee=analyst,
                    created_by=analyst,
                    status=DeliverableStatus.IN_PROGRESS,
                    sla_state=SlaState.AT_RISK,
                )
                for i in range(size)
            )
            SlaReminder.objects.bulk_create(
                SlaReminder(
                    deliverable=item,
                    kind=ReminderKind.BREACH,
                    due_time=item.due_at,
                    fire_at=item.due_at,
                )
                for item in items
            )
        progress.update(size)
    progress.close()


def vacuum() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def time_hand_written_sql(now):
    from django.db import connection, transaction

    with transaction.atomic():
        with connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(HAND_WRITTEN_SQL, {"now": now})
            claimed, notified = cursor.fetchone()
            elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed, claimed, notified


def time_sweep():
    from django.db import connection

    from deliverables.sla import run_sla_sweep

    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        started = time.perf_counter()
        result = run_sla_sweep()
        elapsed = time.perf_counter() - started
    return elapsed, queries, result


def main() -> None:
    args = parse_args()
    url = postgres_url()
    configured = urlsplit(url).path.lstrip("/")
    if args.database == configured:
        fail(f"--database {args.database} is the database in DATABASE_URL; pick a scratch name.")

    var_dir = tempfile.mkdtemp(prefix="kpo-bench-")
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "kpo.settings",
            "DATABASE_URL": with_database(url, args.database),
            # Uploaded demo files and the like go to a throw-away folder, wake-ups of the
            # outbox sender to an in-memory broker (no worker picks them up), and queries
            # are not kept in memory as DEBUG would.
            "VAR_DIR": var_dir,
            "CELERY_BROKER_URL": "memory://",
            "DEBUG": "false",
        }
    )
    sys.path.insert(0, str(ROOT))
    print(f"scratch database {args.database!r} on {urlsplit(url).hostname}")
    create_database(url, args.database)
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections
        from django.utils import timezone

        from kpo.demo import DemoBuilder

        call_command("migrate", interactive=False, verbosity=0)
        DemoBuilder().build()
        now = timezone.now()
        started = time.perf_counter()
        seed(args.n, now)
        print(f"seeded {args.n:,} deliverables in {time.perf_counter() - started:.1f} s")
        vacuum()

        sql_seconds, claimed, notified = time_hand_written_sql(timezone.now())
        vacuum()  # the rolled-back UPDATE left dead row versions behind
        sweep_seconds, queries, result = time_sweep()
        again_seconds, again_queries, again = time_sweep()

        fired = result.get("fired", 0)
        print()
        print(
            f"run_sla_sweep()      {fired:>9,} escalations  {sweep_seconds:8.2f} s  "
            f"{fired / sweep_seconds:>10,.0f} rows/s  {queries:>6,} queries"
        )
        print(
            f"hand-written SQL     {claimed:>9,} escalations  {sql_seconds:8.2f} s  "
            f"{claimed / sql_seconds:>10,.0f} rows/s  {1:>6,} query (rolled back)"
        )
        print(f"ratio (sweep / SQL)  {sweep_seconds / sql_seconds:.1f}x")
        print(
            f"second sweep         {again.get('fired', 0):>9,} escalations  "
            f"{again_seconds:8.2f} s  {again_queries:>6,} queries"
        )
        print()
        print(
            f"sweep wrote {result.get('outbox', 0):,} outbox rows, marked "
            f"{result.get('breached', 0):,} deliverables breached; the SQL wrote {notified:,} "
            "notifications only (no e-mail rows, audit events or state change)."
        )
        connections.close_all()
    finally:
        if args.keep:
            print(f"kept database {args.database!r}")
        else:
            try:
                from django.db import connections

                connections.close_all()
            except Exception:  # noqa: S110 - Django may not have been set up
                pass
            drop_database(url, args.database)
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
