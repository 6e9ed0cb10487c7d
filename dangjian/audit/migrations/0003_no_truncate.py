"""TRUNCATE fires no row trigger: refuse it with a statement trigger (PostgreSQL)."""

from django.db import migrations


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite has no TRUNCATE; its DELETE is guarded row by row
    schema_editor.execute(
        """
        CREATE OR REPLACE FUNCTION audit_no_truncate() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'audit log is append-only';
        END;
        $$ LANGUAGE plpgsql;
        """
    )
    schema_editor.execute(
        "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_auditevent "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_no_truncate();"
    )


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS audit_no_truncate ON audit_auditevent;")
        schema_editor.execute("DROP FUNCTION IF EXISTS audit_no_truncate();")


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only")]
    operations = [migrations.RunPython(install, uninstall)]
