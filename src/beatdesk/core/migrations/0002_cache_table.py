"""The database cache's table, made by `beatdesk migrate` on every install.

The web form's and the intake's rate limits live in the cache so that every process
shares them; with no Redis configured that cache is this table. It is made whatever
cache is configured, so a desk that leaves Redis later still has it.
"""

from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

CACHE_TABLE = "beatdesk_cache"


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, CACHE_TABLE, dry_run=False)


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(CACHE_TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
