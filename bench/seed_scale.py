"""Build a large, realistic dataset for the scale benchmarks (bench/api.py, bench/pages.py).

    .venv/bin/python bench/seed_scale.py [--scale 1.0] \
        [--database-url postgres://postgres@127.0.0.1:5432/kpo_scale]

At --scale 1: 50 clients, 40 providers, 200 analyst teams, 5,000 users, 20,000 engagements,
1,000,000 deliverables, ~1,500,000 submissions, 3,000,000 audit events, the client reviews
of every decided deliverable and the guardian grants that follow from the assignments
(manager and lead user grants, team group grants, a few viewer grants). Every size scales
with --scale (0.05 builds the quick dataset in one to four minutes).

The database in --database-url is DROPPED and created again, migrated and given the demo
data of shared/DEMO.md first (so every demo login works), then filled with PostgreSQL COPY
in foreign-key order with ids generated here; sequences are moved past them and the whole
database is VACUUM ANALYZEd at the end. Submissions carry metadata only: no benchmark
downloads a file.

The subjects of the benchmarks, all with the password `demo-password` and a DRF token:
- `bench.manager`: a client manager with 500 engagements at --scale 1 (2.5% of them at
  any scale) of the largest client;
- `bench.analyst`: an analyst in a team of the largest provider;
- `bench.padmin`: the admin of that provider, which holds about 10% of the deliverables
  (99,150 at --scale 1), for its scorecard;
- `bench.lead` and `bench.cadmin`: a lead of that provider and an admin of that client;
- one engagement of bench.manager with 60,000 audit events at any scale, so that the
  audit list has a page 1,000 (50 events a page) whatever the size of the rest.
Their ids and tokens are kept in the table `bench_state` of the same database.
"""

import argparse
import io
import itertools
import json
import random
import secrets
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

sys.path.insert(0, __file__.rsplit("/", 1)[0])

from common import (
    DEFAULT_DATABASE_URL,
    Progress,
    connect,
    database_name,
    setup_django,
)

SCRIPT = "bench/seed_scale.py"
NULL = "\\N"
COPY_CHUNK = 20_000
DELIVERED = ("met", "missed")  # the SLA states of work that reached the client
BULK_ROWS = 100_000  # from this many rows, indexes are rebuilt after the COPY
BENCH_USERS = ("bench.manager", "bench.analyst", "bench.lead", "bench.padmin", "bench.cadmin")
HOT_AUDIT_EVENTS = 60_000  # a page 1,000 of 50 events, at any scale
DAY = 86_400.0

FULL = {
    "clients": 50,
    "providers": 40,
    "teams": 200,
    "users": 5_000,
    "engagements": 20_000,
    "deliverables": 1_000_000,
    "audit_events": 3_000_000,
}

# Words for titles and descriptions, so that the knowledge search has realistic hits.
TOPICS = [
    "survival",
    "efficacy",
    "safety",
    "pharmacokinetic",
    "biomarker",
    "credit",
    "liquidity",
    "valuation",
    "patent",
    "litigation",
    "market",
    "pricing",
    "churn",
    "supply chain",
    "regulatory",
    "competitor",
    "sentiment",
    "forecast",
    "portfolio",
    "claims",
]
WORKS = ["analysis", "review", "model", "summary", "landscape", "benchmark", "assessment"]
QUALIFIERS = ["interim", "final", "quarterly", "exploratory", "subgroup", "sensitivity", "pooled"]
KINDS = ["report", "model", "dataset", "memo", "presentation"]
FILLER = [
    "covering",
    "the agreed scope",
    "with sources",
    "assumptions",
    "limitations",
    "and the questions",
    "raised by the client",
    "during the last review cycle",
    "and the appendix tables",
]
ACTIONS = [
    ("deliverable.submit", 0.25),
    ("deliverable.qa", 0.15),
    ("deliverable.review", 0.15),
    ("deliverable.start", 0.10),
    ("comment.add", 0.15),
    ("submission.download", 0.15),
    ("engagement.update", 0.05),
]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = the full size")
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help="PostgreSQL database to DROP and build (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed (default: %(default)s)")
    args = parser.parse_args()
    if not 0 < args.scale <= 5:
        parser.error("--scale must be in (0, 5]")
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("--database-url must be a PostgreSQL URL")
    if database_name(args.database_url) in ("", "postgres", "template0", "template1"):
        parser.error("--database-url must name a scratch database: it is dropped")
    return args


def ts(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def recreate_database(url: str) -> None:
    name = database_name(url)
    server = connect(url, dbname="postgres")
    server.autocommit = True
    try:
        with server.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        server.close()


class Seeder:
    def __init__(self, connection, scale: float, seed: int):
        self.db = connection
        self.scale = scale
        self.rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
        self.now = time.time()
        self.sizes = {name: max(2, round(n * scale)) for name, n in FULL.items()}
        self.counts: dict[str, int] = {}
        self.state: dict = {}
        self.password = None

    # -- plumbing ---------------------------------------------------------------------------

    def query(self, sql, params=None):
        with self.db.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else None

    def next_id(self, table: str) -> int:
        # Table names here are this script's own literals, never input.
        return self.query(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")[0][0]  # noqa: S608

    def copy(self, table: str, columns: str, lines, total: int, label: str) -> int:
        """COPY the tab-separated `lines` into `table`, a chunk at a time. A large table's
        secondary indexes are set aside and built again afterwards, which is several times
        faster than maintaining them row by row."""
        indexes = self.set_indexes_aside(table) if total >= BULK_ROWS else []
        progress = Progress(total, label)
        buffer, pending, written = io.StringIO(), 0, 0
        with self.db.cursor() as cursor:
            for line in lines:
                buffer.write(line)
                pending += 1
                if pending == COPY_CHUNK:
                    buffer.seek(0)
                    cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)
                    written += pending
                    progress.update(pending)
                    buffer, pending = io.StringIO(), 0
            if pending:
                buffer.seek(0)
                cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)
                written += pending
                progress.update(pending)
        self.db.commit()
        progress.close()
        if indexes:
            started = time.perf_counter()
            for definition in indexes:
                self.query(definition)
            self.db.commit()
            print(
                f"  {len(indexes)} indexes of {table} rebuilt in "
                f"{time.perf_counter() - started:.1f} s",
                file=sys.stderr,
            )
        self.counts[table] = self.counts.get(table, 0) + written
        return written

    def set_indexes_aside(self, table: str) -> list[str]:
        """Drop the table's indexes other than its primary key and unique constraints, and
        return the statements that create them again exactly as they were."""
        rows = self.query(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i "
            "WHERE i.schemaname = 'public' AND i.tablename = %s AND NOT EXISTS ("
            "SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            (table,),
        )
        for name, _ in rows:
            self.query(f'DROP INDEX "{name}"')
        self.db.commit()
        return [definition for _, definition in rows]

    # -- stages -----------------------------------------------------------------------------

    def organisations(self):
        s = self.sizes
        self.service_lines = [row[0] for row in self.query("SELECT id FROM vendors_serviceline")]
        created = ts(self.now - 4 * 365 * DAY)
        first = self.next_id("engagements_client")
        self.clients = list(range(first, first + s["clients"]))
        self.copy(
            "engagements_client",
            "id, name, slug, industry, created_at",
            (
                f"{cid}\tScale Client {i}\tscale-client-{i}\tindustry {i % 7}\t{created}\n"
                for i, cid in enumerate(self.clients)
            ),
            len(self.clients),
            "clients",
        )
        first = self.next_id("vendors_provider")
        self.providers = list(range(first, first + s["providers"]))
        self.copy(
            "vendors_provider",
            "id, name, slug, country, is_active, created_at",
            (
                f"{pid}\tScale Provider {i}\tscale-provider-{i}\tIN\tt\t{created}\n"
                for i, pid in enumerate(self.providers)
            ),
            len(self.providers),
            "providers",
        )
        self.provider_lines = {
            pid: self.rng.sample(self.service_lines, 3) for pid in self.providers
        }
        self.copy(
            "vendors_provider_service_lines",
            "provider_id, serviceline_id",
            (f"{pid}\t{line}\n" for pid, lines in self.provider_lines.items() for line in lines),
            3 * len(self.providers),
            "service lines",
        )
        today = datetime.fromtimestamp(self.now, UTC).date()
        self.copy(
            "vendors_vendorapproval",
            "status, risk_tier, assessed_on, expires_on, notes, updated_at, client_id, provider_id",
            (
                f"approved\tlow\t{today - timedelta(days=200)}\t{today + timedelta(days=500)}"
                f"\t\t{created}\t{cid}\t{pid}\n"
                for cid in self.clients
                for pid in self.providers
            ),
            len(self.clients) * len(self.providers),
            "approvals",
        )

    def users(self):
        """A fifth of the users on the client side (admin, managers, viewers), the rest at the
        providers (admin, leads, QA reviewers, analysts)."""
        from django.contrib.auth.hashers import make_password

        self.password = make_password("demo-password")
        s = self.sizes
        client_users = max(3 * s["clients"], s["users"] // 5)
        provider_users = max(6 * s["providers"], s["users"] - client_users)
        rows = []  # (username, role, client_id, provider_id)
        self.client_managers, self.client_viewers = {}, {}
        self.provider_staff = {}
        per_client = client_users // s["clients"]
        for i, cid in enumerate(self.clients):
            rows.append((f"scale.c{i}.admin", "client_admin", cid, None))
            managers = max(1, per_client * 6 // 10)
            for k in range(managers):
                rows.append((f"scale.c{i}.manager{k}", "client_manager", cid, None))
            for k in range(max(1, per_client - 1 - managers)):
                rows.append((f"scale.c{i}.viewer{k}", "client_viewer", cid, None))
        per_provider = provider_users // s["providers"]
        for i, pid in enumerate(self.providers):
            rows.append((f"scale.p{i}.admin", "provider_admin", None, pid))
            leads = max(1, per_provider // 20)
            qa = max(1, per_provider // 10)
            for k in range(leads):
                rows.append((f"scale.p{i}.lead{k}", "engagement_lead", None, pid))
            for k in range(qa):
                rows.append((f"scale.p{i}.qa{k}", "qa_reviewer", None, pid))
            for k in range(max(1, per_provider - 1 - leads - qa)):
                rows.append((f"scale.p{i}.analyst{k}", "analyst", None, pid))
        # The benchmarks' subjects: in the largest client and the largest provider.
        rows.append(("bench.manager", "client_manager", self.clients[0], None))
        rows.append(("bench.analyst", "analyst", None, self.providers[0]))
        rows.append(("bench.lead", "engagement_lead", None, self.providers[0]))
        rows.append(("bench.padmin", "provider_admin", None, self.providers[0]))
        rows.append(("bench.cadmin", "client_admin", self.clients[0], None))
        first = self.next_id("accounts_user")
        self.user_ids = {}
        joined = ts(self.now - 3 * 365 * DAY)

        def lines():
            for offset, (username, role, cid, pid) in enumerate(rows):
                uid = first + offset
                self.user_ids[username] = uid
                if role == "client_manager":
                    self.client_managers.setdefault(cid, []).append(uid)
                elif role == "client_viewer":
                    self.client_viewers.setdefault(cid, []).append(uid)
                elif pid is not None:
                    self.provider_staff.setdefault((pid, role), []).append(uid)
                client = cid if cid is not None else NULL
                provider = pid if pid is not None else NULL
                yield (
                    f"{uid}\t{self.password}\tf\t{username}\t{username.split('.')[1]}\t"
                    f"{role}\t{username}@scale.example\tf\tt\t{joined}\t{role}\timmediate\t"
                    f"{client}\t{provider}\t0\n"
                )

        self.copy(
            "accounts_user",
            "id, password, is_superuser, username, first_name, last_name, email, is_staff, "
            "is_active, date_joined, role, email_mode, client_id, provider_id, "
            "digested_notification_id",
            lines(),
            len(rows),
            "users",
        )
        # bench.manager is the one manager of its engagements; keep it out of the pool.
        self.client_managers[self.clients[0]].remove(self.user_ids["bench.manager"])
        tokens = {name: secrets.token_hex(20) for name in BENCH_USERS}
        self.copy(
            "authtoken_token",
            "key, created, user_id",
            (f"{key}\t{joined}\t{self.user_ids[name]}\n" for name, key in tokens.items()),
            len(tokens),
            "tokens",
        )
        self.state["tokens"] = tokens
        self.state["users"] = {name: self.user_ids[name] for name in BENCH_USERS}

    def teams(self):
        s = self.sizes
        per_provider = max(1, s["teams"] // s["providers"])
        group_first = self.next_id("auth_group")
        team_first = self.next_id("vendors_analystteam")
        self.provider_teams, self.team_group, self.team_members = {}, {}, {}
        created = ts(self.now - 3 * 365 * DAY)
        teams = []
        for pid in self.providers:
            analysts = self.provider_staff.get((pid, "analyst"), [])
            qa = self.provider_staff.get((pid, "qa_reviewer"), [])
            leads = self.provider_staff.get((pid, "engagement_lead"), [])
            for k in range(per_provider):
                tid = team_first + len(teams)
                gid = group_first + len(teams)
                members = analysts[k::per_provider] + qa[k::per_provider]
                lead = leads[k % len(leads)]
                teams.append((tid, gid, pid, k, lead))
                self.provider_teams.setdefault(pid, []).append(tid)
                self.team_group[tid] = gid
                self.team_members[tid] = members
        bench_team = self.provider_teams[self.providers[0]][0]
        self.team_members[bench_team].append(self.user_ids["bench.analyst"])
        teams[0] = (*teams[0][:4], self.user_ids["bench.lead"])
        self.team_lead = {tid: lead for tid, _, _, _, lead in teams}
        self.copy(
            "auth_group",
            "id, name",
            (f"{gid}\tanalyst-team:{uuid.uuid4().hex}\n" for _, gid, _, _, _ in teams),
            len(teams),
            "groups",
        )
        self.copy(
            "vendors_analystteam",
            "id, name, created_at, group_id, lead_id, provider_id",
            (
                f"{tid}\tTeam {k}\t{created}\t{gid}\t{lead}\t{pid}\n"
                for tid, gid, pid, k, lead in teams
            ),
            len(teams),
            "teams",
        )
        members = [(tid, uid) for tid, uids in self.team_members.items() for uid in uids]
        self.copy(
            "vendors_analystteam_members",
            "analystteam_id, user_id",
            (f"{tid}\t{uid}\n" for tid, uid in members),
            len(members),
            "team members",
        )
        # Members and the lead are in the team's group: that is what the group grants reach.
        in_group = members + [(tid, lead) for tid, lead in self.team_lead.items()]
        self.copy(
            "accounts_user_groups",
            "user_id, group_id",
            (f"{uid}\t{self.team_group[tid]}\n" for tid, uid in sorted(set(in_group))),
            len(set(in_group)),
            "group members",
        )

    def engagements(self):
        """Engagement statuses as a mature tenant has them: most active or completed."""
        s = self.sizes
        rng = self.rng
        n = s["engagements"]
        first = self.next_id("engagements_engagement")
        statuses = [
            ("active", 0.55),
            ("completed", 0.30),
            ("terminated", 0.04),
            ("on_hold", 0.03),
            ("proposed", 0.03),
            ("draft", 0.05),
        ]
        self.bench_engagements = max(1, round(500 * self.scale))
        # (id, client, provider, status, start, end, manager, lead, teams)
        self.engagement_rows = []
        bench_manager = self.user_ids["bench.manager"]
        managed = 0
        years = {}
        for i in range(n):
            eid = first + i
            client = self.clients[0] if rng.random() < 0.05 else rng.choice(self.clients[1:])
            provider = self.providers[0] if rng.random() < 0.10 else rng.choice(self.providers[1:])
            if client == self.clients[0] and managed < self.bench_engagements:
                manager = bench_manager
                managed += 1
            else:
                manager = rng.choice(self.client_managers[client])
            roll, status = rng.random(), "active"
            for name, share in statuses:
                if roll < share:
                    status = name
                    break
                roll -= share
            if status in ("completed", "terminated"):
                start = self.now - rng.uniform(400, 3 * 365) * DAY
            else:
                start = self.now - rng.uniform(30, 330) * DAY
            end = start + 365 * DAY
            staffed = status not in ("draft", "proposed")
            lead = self.team_lead[rng.choice(self.provider_teams[provider])] if staffed else None
            teams = []
            if staffed:
                teams = rng.sample(self.provider_teams[provider], min(2, 1 + (rng.random() < 0.3)))
                if lead is not None and lead not in (self.team_lead[t] for t in teams):
                    lead = self.team_lead[teams[0]]
            self.engagement_rows.append(
                (eid, client, provider, status, start, end, manager, lead, teams)
            )
        while managed < self.bench_engagements:
            # Too few engagements fell to the largest client at a tiny scale: move some there.
            index = next(k for k, row in enumerate(self.engagement_rows) if row[6] != bench_manager)
            eid, _, provider, status, start, end, _, lead, teams = self.engagement_rows[index]
            moved = (self.clients[0], provider, status, start, end, bench_manager, lead, teams)
            self.engagement_rows[index] = (eid, *moved)
            managed += 1
        # The audit subject: an active engagement of bench.manager with the largest provider.
        hot = next(
            k
            for k, row in enumerate(self.engagement_rows)
            if row[6] == bench_manager and row[3] == "active"
        )
        row = self.engagement_rows[hot]
        self.engagement_rows[hot] = (row[0], row[1], self.providers[0], *row[3:7], None, [])
        lead_team = self.provider_teams[self.providers[0]][0]
        self.engagement_rows[hot] = (
            *self.engagement_rows[hot][:7],
            self.team_lead[lead_team],
            [lead_team],
        )
        self.state["audit_engagement"] = self.engagement_rows[hot][0]

        def lines():
            for eid, client, provider, status, start, end, manager, lead, _ in self.engagement_rows:
                created = start - rng.uniform(5, 40) * DAY
                year = datetime.fromtimestamp(created, UTC).year
                years[year] = years.get(year, 0) + 1
                reference = f"ENG-{year}-{years[year]:05d}"
                line = self.provider_lines[provider][eid % 3]
                start_date = datetime.fromtimestamp(start, UTC).date()
                end_date = datetime.fromtimestamp(end, UTC).date()
                held = ts(self.now - 3 * DAY) if status == "on_hold" else NULL
                yield (
                    f"{eid}\t{reference}\tScale engagement {eid}: {TOPICS[eid % 20]} programme\t"
                    f"Research questions for engagement {eid}.\t{status}\tconfidential\t"
                    f"{start_date}\t{end_date}\t{100_000 + eid % 900_000}.00\tUSD\tfixed_fee\t"
                    f"t\t24\t72\t3.00\t{held}\t{ts(created)}\t{ts(created)}\t{client}\t"
                    f"{manager}\t{manager}\t{provider}\t{lead if lead else NULL}\t{line}\n"
                )

        self.copy(
            "engagements_engagement",
            "id, reference, title, brief, status, confidentiality, start_date, end_date, budget, "
            "currency, pricing_model, qa_required, reminder_lead_hours, review_turnaround_hours, "
            "quality_threshold, held_since, created_at, updated_at, client_id, client_manager_id, "
            "created_by_id, provider_id, provider_lead_id, service_line_id",
            lines(),
            n,
            "engagements",
        )
        # Engagement numbers continue after the seeded ones in each year.
        for year, last in years.items():
            self.query(
                "INSERT INTO engagements_referencesequence (year, last_number) VALUES (%s, %s) "
                "ON CONFLICT (year) DO UPDATE SET last_number = GREATEST("
                "engagements_referencesequence.last_number, EXCLUDED.last_number)",
                (year, last + 10_000),
            )
        links = [(eid, tid) for eid, *_, teams in self.engagement_rows for tid in teams]
        self.copy(
            "engagements_engagement_teams",
            "engagement_id, analystteam_id",
            (f"{eid}\t{tid}\n" for eid, tid in links),
            len(links),
            "engagement teams",
        )
        permission = self.query(
            "SELECT p.id FROM auth_permission p JOIN django_content_type c "
            "ON c.id = p.content_type_id WHERE c.app_label = 'engagements' "
            "AND p.codename = 'view_engagement'"
        )[0][0]
        user_grants = []
        for eid, client, _, _, _, _, manager, lead, _ in self.engagement_rows:
            user_grants.append((eid, manager))
            if lead is not None:
                user_grants.append((eid, lead))
            if rng.random() < 0.05:
                user_grants.append((eid, rng.choice(self.client_viewers[client])))
        self.copy(
            "access_engagementuserobjectpermission",
            "content_object_id, permission_id, user_id",
            (f"{eid}\t{permission}\t{uid}\n" for eid, uid in sorted(set(user_grants))),
            len(set(user_grants)),
            "user grants",
        )
        self.copy(
            "access_engagementgroupobjectpermission",
            "content_object_id, group_id, permission_id",
            (f"{eid}\t{self.team_group[tid]}\t{permission}\n" for eid, tid in links),
            len(links),
            "team grants",
        )

    def deliverables(self):
        """The same number per engagement, due across its year; what happened to each follows
        from its engagement's status and whether it is due yet."""
        rng = self.rng
        n = self.sizes["deliverables"]
        per = max(1, n // len(self.engagement_rows))
        first = self.next_id("deliverables_deliverable")
        self.deliverable_first, self.deliverables_per = first, per
        self.delivered = []  # (id, engagement row index, versions, decision, delivered, decided)
        now = self.now

        def lines():
            did = first
            for index, row in enumerate(self.engagement_rows):
                eid, _, _, status, start, end, manager, lead, teams = row
                members = self.team_members[teams[0]] if teams else []
                for k in range(per):
                    due = start + (k + 0.5) * (end - start) / per + rng.uniform(-DAY, DAY)
                    past = due < now
                    roll = rng.random()
                    if status in ("draft", "proposed"):
                        state = "planned"
                    elif status == "completed" or (past and status != "terminated"):
                        state = (
                            "accepted"
                            if roll < 0.82
                            else "rejected"
                            if roll < 0.85
                            else "cancelled"
                            if roll < 0.89
                            else "in_review"
                            if roll < 0.93
                            else "changes_requested"
                            if roll < 0.95
                            else "in_progress"
                        )
                        if status == "completed" and state not in ("accepted", "rejected"):
                            state = "accepted" if roll < 0.95 else "cancelled"
                    elif status == "terminated":
                        state = "accepted" if past and roll < 0.6 else "cancelled"
                    else:
                        state = (
                            "planned" if roll < 0.6 else "in_progress" if roll < 0.9 else "in_qa"
                        )
                    versions, delivered, decided = 0, None, None
                    score, review_started = None, None
                    if state in ("accepted", "rejected", "in_review", "changes_requested"):
                        v = rng.random()
                        versions = 1 if v < 0.2 else 2 if v < 0.5 else 3 if v < 0.75 else 4
                        late = rng.random() < 0.12
                        delivered = (
                            due + (rng.uniform(1, 72) if late else -rng.uniform(0, 96)) * 3600
                        )
                        delivered = min(delivered, now - 3600)
                        sla = "missed" if late else "met"
                        if state in ("accepted", "rejected"):
                            decided = min(delivered + rng.uniform(2, 120) * 3600, now - 60)
                        if state == "in_review":
                            review_started = delivered
                        if state == "accepted":
                            score = f"{rng.uniform(3, 5):.2f}"
                    elif state == "in_qa":
                        versions, sla = 1, "on_track"
                        delivered = min(due, now) - rng.uniform(1, 48) * 3600
                    elif state == "in_progress" and past:
                        sla = "breached"
                    elif state in ("planned", "in_progress") and due - now < DAY:
                        sla = "at_risk" if due > now else "breached"
                    else:
                        sla = "on_track"
                    if versions:
                        self.delivered.append((did, index, versions, state, delivered, decided))
                    assignee = members[did % len(members)] if members else None
                    topic = TOPICS[rng.randrange(20)]
                    work = WORKS[rng.randrange(7)]
                    title = f"{QUALIFIERS[rng.randrange(7)].capitalize()} {topic} {work}"
                    words = " ".join(FILLER[rng.randrange(4) :])
                    description = f"{title} for engagement {eid}, {words}."
                    created = ts(start - DAY)
                    yield (
                        f"{did}\t{title}\t{description}\t{KINDS[did % 5]}\t{ts(due)}\t{state}\t"
                        f"{sla}\t{versions}\t{ts(delivered) if sla in DELIVERED else NULL}\t"
                        f"{ts(decided) if state == 'accepted' else NULL}\t"
                        f"{ts(review_started) if review_started else NULL}\t"
                        f"{score if score else NULL}\t{created}\t{created}\t"
                        f"{assignee if assignee else NULL}\t{lead if lead else manager}\t{eid}\n"
                    )
                    did += 1

        self.copy(
            "deliverables_deliverable",
            "id, title, description, kind, due_at, status, sla_state, current_version, "
            "delivered_at, accepted_at, review_started_at, overall_score, created_at, "
            "updated_at, assignee_id, created_by_id, engagement_id",
            lines(),
            per * len(self.engagement_rows),
            "deliverables",
        )

    def submissions_and_reviews(self):
        rng = self.rng
        total = sum(row[2] for row in self.delivered)
        first = self.next_id("deliverables_submission")
        decided = []  # (submission id, deliverable id, engagement index, decision, delivered, at)

        def lines():
            sid = first
            for did, index, versions, state, delivered, decided_at in self.delivered:
                eid, client, *_, teams = self.engagement_rows[index]
                members = self.team_members[teams[0]] if teams else [None]
                by = members[did % len(members)] if members and members[0] else NULL
                for version in range(1, versions + 1):
                    at = delivered - (versions - version) * 3 * DAY
                    key = f"{client}/{eid}/submissions/{did:x}v{version}"
                    yield (
                        f"{sid}\t{version}\t{key}\tversion-{version}.pdf\t\t"
                        f"{secrets.token_hex(32) if sid % 1000 == 0 else 'e' * 64}\t"
                        f"{1024 + did % 50_000}\tapplication/pdf\t{ts(at)}\t{did}\t{by}\n"
                    )
                    if version == versions and state in ("accepted", "rejected"):
                        decided.append((sid, did, index, state, delivered, decided_at))
                    sid += 1

        self.copy(
            "deliverables_submission",
            "id, version, file, filename, notes, sha256, size, content_type, submitted_at, "
            "deliverable_id, submitted_by_id",
            lines(),
            total,
            "submissions",
        )

        def reviews():
            for sid, did, index, state, delivered, at in decided:
                manager = self.engagement_rows[index][6]
                scores = [rng.randint(3, 5) for _ in range(5)]
                overall = f"{sum(scores) / 5:.2f}"
                decision = "accept" if state == "accepted" else "reject"
                turnaround = f"{int(at - delivered)} seconds"
                yield (
                    f"client\t{decision}\t" + "\t".join(map(str, scores)) + f"\t{overall}\t\t"
                    f"{ts(at)}\t{did}\t{manager}\t{sid}\t{turnaround}\n"
                )

        self.copy(
            "deliverables_review",
            "kind, decision, score_accuracy, score_completeness, score_insight, "
            "score_relevance, score_presentation, overall, comment, created_at, deliverable_id, "
            "reviewer_id, submission_id, turnaround",
            reviews(),
            len(decided),
            "client reviews",
        )

    def audit_events(self):
        """Events spread over the engagements in time order, with one engagement holding
        HOT_AUDIT_EVENTS of them; a tenth are organisation events of no engagement."""
        rng = self.rng
        total = max(self.sizes["audit_events"], 2 * HOT_AUDIT_EVENTS)
        first = self.next_id("audit_auditevent")
        target_type = self.query(
            "SELECT id FROM django_content_type WHERE app_label = 'deliverables' "
            "AND model = 'deliverable'"
        )[0][0]
        hot = next(
            k
            for k, row in enumerate(self.engagement_rows)
            if row[0] == self.state["audit_engagement"]
        )
        weights = [name for name, _ in ACTIONS]
        cumulative = list(itertools.accumulate(share for _, share in ACTIONS))
        start = self.now - 3 * 365 * DAY
        step = (self.now - 3600 - start) / total
        hot_share = HOT_AUDIT_EVENTS / total
        actors = [uid for uid in self.user_ids.values()]
        engagements = len(self.engagement_rows)
        per = self.deliverables_per
        counter = {"hot": 0}

        def lines():
            for k in range(total):
                eid_index = hot if rng.random() < hot_share else rng.randrange(engagements)
                if eid_index == hot:
                    counter["hot"] += 1
                eid, client, provider, *_ = self.engagement_rows[eid_index]
                at = ts(start + k * step)
                actor = actors[rng.randrange(len(actors))]
                if rng.random() < 0.1 and eid_index != hot:
                    yield (
                        f"{first + k}\t{at}\tscale user\tauth.login\t\t\t{{}}\t192.0.2.{k % 250}\t"
                        f"Mozilla/5.0 (bench)\t{actor}\t{client}\t{NULL}\t{NULL}\t{NULL}\n"
                    )
                    continue
                roll = rng.random()
                action = next(
                    (name for name, edge in zip(weights, cumulative, strict=True) if roll < edge),
                    weights[-1],
                )
                did = self.deliverable_first + eid_index * per + rng.randrange(per)
                yield (
                    f"{first + k}\t{at}\tscale user\t{action}\t{did}\tDeliverable {did}\t"
                    f'{{"status": ["in_progress", "in_qa"]}}\t192.0.2.{k % 250}\t'
                    f"Mozilla/5.0 (bench)\t{actor}\t{client}\t{eid}\t{provider}\t{target_type}\n"
                )

        self.copy(
            "audit_auditevent",
            "id, created_at, actor_repr, action, target_id, target_repr, changes, ip, "
            "user_agent, actor_id, client_id, engagement_id, provider_id, target_type_id",
            lines(),
            total,
            "audit events",
        )
        self.state["audit_engagement_events"] = counter["hot"]

    def finish(self):
        """Sequences past the generated ids, the subjects recorded, statistics fresh."""
        tables = self.query(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'id' "
            "AND table_schema = 'public' "
            "AND (column_default LIKE 'nextval%%' OR is_identity = 'YES')"
        )
        for (table,) in tables:
            # Table names come from the catalogue, not from input.
            self.query(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM {table}), 1))"
            )
        provider = self.providers[0]
        self.state.update(
            {
                "scale": self.scale,
                "provider": provider,
                "provider_deliverables": self.query(
                    "SELECT count(*) FROM deliverables_deliverable d JOIN engagements_engagement e "
                    "ON e.id = d.engagement_id WHERE e.provider_id = %s",
                    (provider,),
                )[0][0],
                "manager_engagements": self.bench_engagements,
                "deliverable": self.query(
                    "SELECT d.id FROM deliverables_deliverable d WHERE d.engagement_id = %s "
                    "AND d.current_version > 1 ORDER BY d.id LIMIT 1",
                    (self.state["audit_engagement"],),
                )[0][0],
                "search": "survival analysis",
                "counts": self.counts,
            }
        )
        self.query("CREATE TABLE bench_state (value text NOT NULL)")
        self.query("INSERT INTO bench_state VALUES (%s)", (json.dumps(self.state),))
        self.db.commit()
        self.db.autocommit = True
        self.query("VACUUM ANALYZE")


def main() -> None:
    args = parse_args()
    url = args.database_url
    name = database_name(url)
    var_dir = tempfile.mkdtemp(prefix="kpo-scale-")
    timings = []

    def stage(label, function):
        started = time.perf_counter()
        print(f"{label} …", file=sys.stderr, flush=True)
        function()
        timings.append((label, time.perf_counter() - started))
        print(f"{label}: {timings[-1][1]:.1f} s", file=sys.stderr, flush=True)

    try:
        total_started = time.perf_counter()
        stage("recreate database", lambda: recreate_database(url))
        setup_django(url, var_dir)
        from django.core.management import call_command

        from kpo.demo import DemoBuilder

        stage("migrate", lambda: call_command("migrate", interactive=False, verbosity=0))
        stage("demo data", lambda: DemoBuilder().build())
        from django.db import connections

        connections.close_all()
        connection = connect(url)
        with connection.cursor() as cursor:
            # Rows are written in foreign-key order with ids that exist, so the per-row
            # foreign-key triggers are skipped (the constraints stay); the index builds get
            # memory and both cores.
            cursor.execute("SET session_replication_role = replica")
            cursor.execute("SET synchronous_commit = off")
            cursor.execute("SET maintenance_work_mem = '512MB'")
            cursor.execute("SET max_parallel_maintenance_workers = 2")
        connection.commit()
        seeder = Seeder(connection, args.scale, args.seed)
        stage("organisations", seeder.organisations)
        stage("users", seeder.users)
        stage("teams", seeder.teams)
        stage("engagements+grants", seeder.engagements)
        stage("deliverables", seeder.deliverables)
        stage("submissions", seeder.submissions_and_reviews)
        stage("audit events", seeder.audit_events)
        stage("vacuum analyze", seeder.finish)
        connection.close()
        total = time.perf_counter() - total_started
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    print()
    print(f"database {name} at --scale {args.scale}")
    for label, seconds in timings:
        print(f"  {label:<20} {seconds:8.1f} s")
    print(f"  {'total':<20} {total:8.1f} s")
    for table, rows in sorted(seeder.counts.items()):
        print(f"  {table:<40} {rows:>10,} rows")
    print(
        f"  bench.manager engagements {seeder.bench_engagements:,}; provider "
        f"{seeder.state['provider']} deliverables {seeder.state['provider_deliverables']:,}; "
        f"audit engagement {seeder.state['audit_engagement']} events "
        f"{seeder.state['audit_engagement_events']:,}"
    )


if __name__ == "__main__":
    main()
