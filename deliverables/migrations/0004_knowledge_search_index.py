from django.db import migrations

# The knowledge library searches accepted deliverables with PostgreSQL full-text search. The
# expression must be exactly the one deliverables.selectors builds, or the planner ignores it.
INDEX = "deliverable_knowledge_fts_idx"
CREATE = f"""
CREATE INDEX IF NOT EXISTS {INDEX} ON deliverables_deliverable
USING gin (to_tsvector('english'::regconfig,
    COALESCE(title, '') || ' ' || COALESCE(description, '')))
WHERE status = 'accepted'
"""


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("deliverables", "0003_api_read_models")]

    operations = [migrations.RunPython(create_index, drop_index)]
