from django.db import migrations

# Deliverable lists are always narrowed to the caller's engagements (`engagement_id IN (…)`)
# and then often filtered by status or SLA state. With the first two, both a page and its
# count are index-only scans per visible engagement, instead of heap visits to every visible
# row or a scan of every tenant's rows in that state.
#
# The third serves "open work at risk or past due, most urgent first" (the dashboards): it
# holds only that work, a few percent of the table, so walking it in due order finds the
# caller's first rows without stepping over every tenant's finished work. Its condition must
# stay the one the dashboards filter on (kpo.accounts.selectors.AT_RISK_OR_BREACHED), or the
# planner cannot use it.
#
# bench/README.md has the plans before and after. Built concurrently: the table is large and
# written to all day.
INDEXES = {
    "deliverable_engagement_status_idx": "(engagement_id, status, due_at)",
    "deliverable_engagement_sla_idx": "(engagement_id, sla_state, due_at)",
    "deliverable_attention_due_idx": (
        "(due_at, id) WHERE status IN "
        "('planned', 'in_progress', 'in_qa', 'in_review', 'changes_requested') "
        "AND sla_state IN ('at_risk', 'breached')"
    ),
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, definition in INDEXES.items():
            schema_editor.execute(
                f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} "
                f"ON deliverables_deliverable {definition}"
            )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction
    dependencies = [("deliverables", "0005_sla_engine")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
