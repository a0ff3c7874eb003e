"""A GIN full-text index on message text, for GET /api/v1/sessions/?search= on PostgreSQL."""

from django.db import migrations

INDEX = "chat_message_content_fts"


def create(apps, schema_editor):
    # PostgreSQL only: SQLite (embedded mode) searches with a plain scan. The expression is the
    # one sessions_app.selectors builds (SearchVector("content", config="simple")), so the
    # planner uses the index for it.
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON chat_message "
        "USING gin (to_tsvector('simple'::regconfig, COALESCE(content, '')))"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("chat", "0002_console")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
