"""Make the audit log append-only in the database itself.

UPDATE is always refused; DELETE is refused for rows younger than the retention period
(AUDIT_RETENTION_DAYS, at least 190 days), so old rows can be archived and purged, recent
ones never. On PostgreSQL, PUBLIC also loses UPDATE/DELETE/TRUNCATE; a production deployment
runs the app as a role granted only INSERT and SELECT on this table (docs/deployment.md).
"""

from django.conf import settings
from django.db import migrations

TABLE = "audit_auditevent"


def install(apps, schema_editor):
    days = int(settings.AUDIT_RETENTION_DAYS)
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(
            f"CREATE TRIGGER audit_no_update BEFORE UPDATE ON {TABLE} "
            "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;"
        )
        schema_editor.execute(
            f"CREATE TRIGGER audit_no_early_delete BEFORE DELETE ON {TABLE} "
            f"WHEN OLD.at > strftime('%Y-%m-%d %H:%M:%f', 'now', '-{days} days') "
            "BEGIN SELECT RAISE(ABORT, 'audit rows are kept for the retention period'); END;"
        )
    elif vendor == "postgresql":
        schema_editor.execute(
            f"""
            CREATE OR REPLACE FUNCTION audit_guard() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'UPDATE' THEN
                    RAISE EXCEPTION 'audit log is append-only';
                END IF;
                IF OLD.at > now() - interval '{days} days' THEN
                    RAISE EXCEPTION 'audit rows are kept for the retention period';
                END IF;
                RETURN OLD;
            END;
            $$ LANGUAGE plpgsql;
            """
        )
        schema_editor.execute(
            f"CREATE TRIGGER audit_guard BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION audit_guard();"
        )
        schema_editor.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {TABLE} FROM PUBLIC;")


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS audit_no_update;")
        schema_editor.execute("DROP TRIGGER IF EXISTS audit_no_early_delete;")
    elif vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS audit_guard ON {TABLE};")
        schema_editor.execute("DROP FUNCTION IF EXISTS audit_guard();")


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(install, uninstall)]
