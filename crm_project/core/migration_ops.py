"""Migration operations that run only on PostgreSQL (trigram indexes, extensions)."""

from __future__ import annotations

from django.db import migrations


class PostgreSQLOnly(migrations.RunSQL):
    """``RunSQL`` that does nothing on other databases (SQLite for a newcomer's first run)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def trigram_index(table: str, column: str, name: str) -> PostgreSQLOnly:
    """
    A GIN trigram index on ``UPPER(column::text)``: the exact expression Django's
    ``icontains`` compiles to on PostgreSQL, so the planner can use it for ``search``.
    """
    return PostgreSQLOnly(
        sql=f'CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ((UPPER("{column}"::text)) gin_trgm_ops);',
        reverse_sql=f"DROP INDEX IF EXISTS {name};",
    )


ENABLE_TRIGRAM = PostgreSQLOnly(
    sql="CREATE EXTENSION IF NOT EXISTS pg_trgm;",
    reverse_sql=migrations.RunSQL.noop,
)


def trigram_column_index(table: str, column: str, name: str) -> PostgreSQLOnly:
    """A GIN trigram index on the column itself, for ``column % 'text'`` (pg_trgm's similarity operator)."""
    return PostgreSQLOnly(
        sql=f'CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ("{column}" gin_trgm_ops);',
        reverse_sql=f"DROP INDEX IF EXISTS {name};",
    )
