"""Audit events are append-only in the database itself, not only in the ORM.

The model and its queryset refuse to change or delete an event; this trigger refuses it to
everything else that speaks SQL to the database (a shell, a script, a raw query), on
PostgreSQL. SQLite, the local default, has no such guard.

TRUNCATE is left possible on purpose: row triggers do not fire on it, and the test runner
empties tables with TRUNCATE between transactional tests. In production the application's
database role should therefore not be granted TRUNCATE on audit_auditevent, nor own the
table (an owner can disable the trigger): run migrations with a separate owner role.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only: % on audit_auditevent refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_event_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_event_append_only();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            # A plain cursor: without parameters the "%" of RAISE stays a "%".
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_append_only_base_manager"),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP), elidable=False),
    ]
