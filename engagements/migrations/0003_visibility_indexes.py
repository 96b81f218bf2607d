from django.db import migrations

# Every restricted read starts from "the engagements this user may see": the organisation's
# engagements (a provider's without the drafts), narrowed to those granted to the user or
# their teams (kpo.access.policy.visible_engagements). These give that first step as an
# index-only scan of (organisation, id) instead of a visit to every engagement row of the
# organisation, which matters because the step is repeated in every query of a page, and per
# row where a page counts per provider (bench/README.md has the plans). Built concurrently.
INDEXES = {
    "engagement_client_visible_idx": "(client_id, id)",
    "engagement_provider_visible_idx": "(provider_id, status, id)",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, columns in INDEXES.items():
            schema_editor.execute(
                f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} "
                f"ON engagements_engagement {columns}"
            )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction
    dependencies = [("engagements", "0002_initial")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
