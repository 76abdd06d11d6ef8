"""Timelines built from django-simple-history: who, what, when, from → to."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import models
from django.utils.dateformat import format as date_format
from django.utils.timezone import localtime
from simple_history.manager import HistoricalQuerySet
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


def _names(model_field, rows) -> str:
    """The related objects named by the rows of a historical many-to-many table."""
    related = model_field.related_model
    key = related._meta.model_name
    ids = [row[key] for row in rows or [] if isinstance(row, dict) and key in row]
    return "; ".join(str(item) for item in related._default_manager.filter(pk__in=ids))


def timeline(obj, *, limit: int = 100) -> list[Entry]:
    """The object's history, newest first, each change with its previous value."""
    records = list(obj.history.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 1])
    entries = []
    for index, record in enumerate(records[:limit]):
        previous = records[index + 1] if index + 1 < len(records) else None
        entry = Entry(
            when=record.history_date,
            who=record.history_user,
            what=record.history_change_reason or f"{_VERBS.get(record.history_type, 'Changed')} {obj._meta.verbose_name}",
        )
        if previous is not None and record.history_type == "~":
            delta = record.diff_against(previous, foreign_keys_are_objs=False)
            for change in delta.changes:
                model_field = obj._meta.get_field(change.field)
                label = str(model_field.verbose_name)
                if model_field.many_to_many:
                    entry.changes.append(Change(field=label, old=_names(model_field, change.old),
                                                new=_names(model_field, change.new)))
                else:
                    entry.changes.append(Change(field=label, old=_display(previous, change.field),
                                                new=_display(record, change.field)))
        entries.append(entry)
    return entries


def combined_timeline(*objects, limit: int = 100) -> list[Entry]:
    entries = [entry for obj in objects if obj is not None for entry in timeline(obj, limit=limit)]
    return sorted(entries, key=lambda e: e.when, reverse=True)[:limit]
