"""
Inserting many new rows at once, through PostgreSQL's ``COPY`` (``bulk_create`` elsewhere):
imports, and the history a bulk path or a merge writes.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connections, models, router


def bulk_insert(instances: Sequence[models.Model]) -> None:
    """
    Insert new, unsaved instances of one model as ``bulk_create`` does (no ``save()``, no
    signals, their related objects already saved), read back as saved. On PostgreSQL through
    ``COPY``: no INSERT of thousands of parameters to compile, and the server writes rows while
    this process still prepares the next ones (an import's 50,000 leads, a quarter faster).
    """
    if not instances:
        return
    model = type(instances[0])
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(instances)
        return
    meta = model._meta
    # A key the database numbers (an auto field) is left to it: it is not read back.
    numbered = meta.pk.db_returning and instances[0].pk is None
    fields = [field for field in meta.concrete_fields if not field.generated and not (numbered and field is meta.pk)]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    sql = f"COPY {connection.ops.quote_name(meta.db_table)} ({columns}) FROM STDIN"
    # Django's cursor for its transaction and its error translation (an IntegrityError from a
    # unique index, as from an INSERT); psycopg's own for the COPY.
    with connection.cursor() as cursor, connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
        for instance in instances:
            if instance.pk is None and not numbered:
                instance.pk = meta.pk.get_pk_value_on_save(instance)
            # Each value as an INSERT would send it: defaults set on save first (pre_save).
            copy.write_row([field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields])
    for instance in instances:
        instance._state.adding = False
        instance._state.db = connection.alias
