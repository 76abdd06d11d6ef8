"""The migration steps shared by every move of a model to another app.

A moved model keeps its table (`Meta.db_table`, `HistoricalRecords(table_name=...)`), so its rows, its
history and the audit rows that name it stay where they are; only what Django keys by app label moves.
"""

from django.db import migrations

CONTENT_TYPES_READY = ("contenttypes", "0002_remove_content_type_name")


def content_types_move(old_app: str, new_app: str, models: list[str]) -> migrations.RunPython:
    """Relabel the models' content types, so permissions, object permissions and admin log entries,
    which point at a content type by id, follow the model. On a new database there is nothing to move."""
    names = [name.lower() for name in models]

    def relabel(from_app, to_app):
        def run(apps, schema_editor):
            content_type = apps.get_model("contenttypes", "ContentType")
            content_type.objects.using(schema_editor.connection.alias).filter(
                app_label=from_app, model__in=names,
            ).update(app_label=to_app)
        return run

    return migrations.RunPython(relabel(old_app, new_app), relabel(new_app, old_app))


def table_rename(old: str, new: str) -> migrations.RunSQL:
    """For a table whose name Django derives from the app label and offers no option to keep: the
    many-to-many history tables of django-simple-history. Rows, sequences and triggers go with it."""
    return migrations.RunSQL(f'ALTER TABLE "{old}" RENAME TO "{new}"', f'ALTER TABLE "{new}" RENAME TO "{old}"')
