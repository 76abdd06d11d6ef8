"""JC19a: an account name belongs to one live grant on a system (accounts.services.account_name_problem).

A database kept before the rule may hold two live grants with one name on a system. Adding the
constraint would then fail on a bare IntegrityError, so the names are checked first, and the
migration stops with the clashing grants and what to do about them.
"""

from django.core.management.base import CommandError
from django.db import migrations, models
from django.db.models import Exists, OuterRef
from django.db.models.functions import Lower, Trim

LIVE_STATUSES = ["active", "suspended"]


def live_account_name_clashes(Grant) -> list[list]:
    """The live grants that share an account name on a system (compared as the constraint does:
    whatever the case, without surrounding spaces), in groups, each group in grant order."""
    live = Grant.objects.filter(status__in=LIVE_STATUSES).annotate(key=Lower(Trim("account_name")))
    twin = live.filter(system_id=OuterRef("system_id"), key=OuterRef("key")).exclude(pk=OuterRef("pk"))
    groups: dict[tuple, list] = {}
    for grant in live.filter(Exists(twin)).select_related("system", "person").order_by("system__name", "key", "pk"):
        groups.setdefault((grant.system_id, grant.key), []).append(grant)
    return list(groups.values())


def clashes_message(groups) -> str:
    lines = [
        "Some account names are used by more than one live grant on the same system, so the rule that an "
        "account belongs to one person (JC19a) cannot be added yet:",
    ]
    for grants in groups:
        first = grants[0]
        holders = "; ".join(
            f"grant {grant.pk}: {grant.person.full_name or grant.person.email} ({grant.role}, {grant.status}, "
            f"“{grant.account_name}”)" for grant in grants
        )
        lines.append(f"- {first.system.name}, account name “{first.account_name.strip()}”: {holders}")
    lines.append(
        "For each name, find out on the system whose account it is. Give every other grant the name of its "
        "holder's own account through a change request, or remove the grant through a removal request if the "
        "person has no account of their own; then run the migrations again."
    )
    return "\n".join(lines)


def refuse_clashing_account_names(apps, schema_editor):
    groups = live_account_name_clashes(apps.get_model("accounts", "Grant"))
    if groups:
        raise CommandError(clashes_message(groups))


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0011_agreements_move_out"),
    ]

    operations = [
        migrations.RunPython(refuse_clashing_account_names, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="grant",
            constraint=models.UniqueConstraint(
                models.F("system"), Lower(Trim("account_name")),
                condition=models.Q(("status__in", LIVE_STATUSES)),
                name="one_live_grant_per_system_account_name",
            ),
        ),
    ]
