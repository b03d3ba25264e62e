"""Full-text search over message text: SQLite FTS5 kept by triggers; PostgreSQL a GIN index."""

from django.db import migrations

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE inbox_message_fts USING fts5(text, content='inbox_message', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "INSERT INTO inbox_message_fts(rowid, text) SELECT id, text FROM inbox_message",
    "CREATE TRIGGER inbox_message_fts_ai AFTER INSERT ON inbox_message BEGIN INSERT INTO inbox_message_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER inbox_message_fts_ad AFTER DELETE ON inbox_message BEGIN INSERT INTO inbox_message_fts(inbox_message_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER inbox_message_fts_au AFTER UPDATE OF text ON inbox_message BEGIN INSERT INTO inbox_message_fts(inbox_message_fts, rowid, text) VALUES ('delete', old.id, old.text); INSERT INTO inbox_message_fts(rowid, text) VALUES (new.id, new.text); END",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS inbox_message_fts_ai",
    "DROP TRIGGER IF EXISTS inbox_message_fts_ad",
    "DROP TRIGGER IF EXISTS inbox_message_fts_au",
    "DROP TABLE IF EXISTS inbox_message_fts",
]
PG_FORWARD = [
    "CREATE INDEX inbox_message_text_search ON inbox_message USING GIN (to_tsvector('simple', text))",
]
PG_BACKWARD = ["DROP INDEX IF EXISTS inbox_message_text_search"]


def forward(apps, schema_editor):
    statements = {"sqlite": SQLITE_FORWARD, "postgresql": PG_FORWARD}.get(
        schema_editor.connection.vendor, []
    )
    for sql in statements:
        schema_editor.execute(sql, params=None)


def backward(apps, schema_editor):
    statements = {"sqlite": SQLITE_BACKWARD, "postgresql": PG_BACKWARD}.get(
        schema_editor.connection.vendor, []
    )
    for sql in statements:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("inbox", "0005_bulkoperation")]
    operations = [migrations.RunPython(forward, backward)]
