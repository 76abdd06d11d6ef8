"""Timelines built from django-simple-history: who, what, when, from → to."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import models
from django.utils.dateformat import format as date_format
from django.utils.timezone import localtime
from simple_history.manager import HistoricalQuerySet
from simple_history import utils
from simple_history.models import HistoricalRecords

from .models import AppendOnlyQuerySet


@dataclass
class Change:
    field: str
    old: str
    new: str


@dataclass
class Entry:
    when: datetime
    who: object
    what: str
    changes: list[Change] = field(default_factory=list)


def history_user(request=None, **kwargs):
    """Who made a change, for django-simple-history: the `by` of the service call, else the
    signed-in user of the request."""
    from .audit import acting_user

    user = acting_user()
    if user is not None:
        return user
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


class AppendOnlyHistoricalQuerySet(AppendOnlyQuerySet, HistoricalQuerySet):
    """`Model.history`: reads as simple-history's, refuses every change in bulk."""


class AppendOnlyHistory(models.Model):
    """The base of every historical model: a history row is written once and never changed or
    deleted (S3.10). On PostgreSQL a trigger refuses a plain UPDATE or DELETE as well."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("History rows are append-only.")
        # Even with a primary key set by hand, a new history row never overwrites an old one.
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("History rows are append-only.")


class AppendOnlyHistoricalRecords(HistoricalRecords):
    """django-simple-history's `HistoricalRecords` whose rows can only be added."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("bases", (AppendOnlyHistory,))
        kwargs.setdefault("m2m_bases", (AppendOnlyHistory,))
        kwargs.setdefault("historical_queryset", AppendOnlyHistoricalQuerySet)
        super().__init__(*args, **kwargs)


_VERBS = {"+": "Created", "~": "Changed", "-": "Deleted"}


def _display(record, field_name: str) -> str:
    model_field = record._meta.get_field(field_name)
    value = getattr(record, model_field.attname)
    if value in (None, ""):
        return ""
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if model_field.is_relation:
        try:
            return str(getattr(record, field_name))
        except Exception:  # the related row may be gone: show the id that was recorded
            return f"#{value}"
    if isinstance(value, datetime):
        return date_format(localtime(value), "M j, Y, g:i a")
    return str(value)


def _m2m_members(records, field_names) -> dict[tuple[str, int], list[int]]:
    """For each historical record and many-to-many field, the ids of the related objects it held:
    one query a field for the whole timeline, where diff_against() makes two for each pair of rows."""
    members: dict[tuple[str, int], list[int]] = {}
    if not records:
        return members
    model = records[0].instance_type
    ids = [record.history_id for record in records]
    for name in field_names:
        through = getattr(records[0], name).model
        key = utils.get_m2m_reverse_field_name(model._meta.get_field(name))
        rows = through.objects.filter(history_id__in=ids).order_by(f"{key}_id").values_list("history_id", f"{key}_id")
        for history_id, related_id in rows:
            members.setdefault((name, history_id), []).append(related_id)
    return members


def _entries(obj, records, members, m2m_names, changed_m2m, limit) -> list[Entry]:
    """The entries of one object from its history records, newest first (`records` holds one more
    than `limit` when there is an older one, to diff the last entry against)."""
    entries = []
    for index, record in enumerate(records[:limit]):
        previous = records[index + 1] if index + 1 < len(records) else None
        entry = Entry(
            when=record.history_date,
            who=record.history_user,
            what=record.history_change_reason or f"{_VERBS.get(record.history_type, 'Changed')} {obj._meta.verbose_name}",
        )
        if previous is not None and record.history_type == "~":
            delta = record.diff_against(previous, foreign_keys_are_objs=False, excluded_fields=m2m_names)
            for change in delta.changes:
                label = str(obj._meta.get_field(change.field).verbose_name)
                entry.changes.append(Change(field=label, old=_display(previous, change.field),
                                            new=_display(record, change.field)))
            for name in m2m_names:
                old = members.get((name, previous.history_id), [])
                new = members.get((name, record.history_id), [])
                if old != new:
                    changed_m2m.append((entry, obj._meta.get_field(name), old, new))
        entries.append(entry)
    return entries


def _records_by_object(model, objects, limit: int) -> dict[int, list]:
    """The history records of several objects of one model in one query, newest first, at most
    `limit + 1` each."""
    history = model.history.model
    rows = (history.objects.filter(**{f"{model._meta.pk.attname}__in": [obj.pk for obj in objects]})
            .select_related("history_user").order_by("-history_date", "-history_id"))
    if len(objects) == 1:
        rows = rows[: limit + 1]
    grouped: dict[int, list] = {obj.pk: [] for obj in objects}
    for record in rows:
        kept = grouped[getattr(record, model._meta.pk.attname)]
        if len(kept) <= limit:
            kept.append(record)
    return grouped


def _timelines(objects, limit: int) -> list[Entry]:
    """The entries of every object given, in a fixed number of queries a model however many
    objects and changes there are."""
    by_model: dict[type, list] = {}
    for obj in objects:
        if obj is not None:
            by_model.setdefault(type(obj), []).append(obj)
    changed_m2m: list = []
    entries: list[Entry] = []
    for model, group in by_model.items():
        grouped = _records_by_object(model, group, limit)
        records = [record for kept in grouped.values() for record in kept]
        m2m_names = [f.name for f in getattr(records[0], "_history_m2m_fields", ())] if records else []
        members = _m2m_members(records, m2m_names) if m2m_names else {}
        for obj in group:
            entries += _entries(obj, grouped[obj.pk], members, m2m_names, changed_m2m, limit)
    _name_m2m_changes(changed_m2m)
    return entries


def timeline(obj, *, limit: int = 100) -> list[Entry]:
    """The object's history, newest first, each change with its previous value."""
    return _timelines([obj], limit)


def _name_m2m_changes(changed) -> None:
    """Add the many-to-many changes to their entries, the related objects named in one query a model."""
    wanted: dict[type, set[int]] = {}
    for _, model_field, old, new in changed:
        wanted.setdefault(model_field.related_model, set()).update(old, new)
    names = {model: {item.pk: str(item) for item in model._default_manager.filter(pk__in=ids)}
             for model, ids in wanted.items()}
    for entry, model_field, old, new in changed:
        known = names[model_field.related_model]
        entry.changes.append(Change(
            field=str(model_field.verbose_name),
            old="; ".join(known[pk] for pk in old if pk in known),
            new="; ".join(known[pk] for pk in new if pk in known),
        ))


def combined_timeline(*objects, limit: int = 100) -> list[Entry]:
    entries = _timelines(objects, limit)
    return sorted(entries, key=lambda e: e.when, reverse=True)[:limit]


def append_only_tables(*tables: str):
    """The migration step every new history table needs (portal 0007 and 0009): on PostgreSQL the
    database itself refuses to change, delete or empty its rows. SQLite has no such trigger."""
    from django.db import migrations

    def add(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for table in tables:
            schema_editor.execute(f"CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON {table} "
                                  "FOR EACH ROW EXECUTE FUNCTION portal_append_only()")
            schema_editor.execute(f"CREATE TRIGGER no_truncate BEFORE TRUNCATE ON {table} "
                                  "FOR EACH STATEMENT EXECUTE FUNCTION portal_refuse_truncate()")

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for table in tables:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS no_truncate ON {table}")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS append_only ON {table}")

    return migrations.RunPython(add, drop)
