"""Table 1 in the order's own words (T1c): a permissible use had lost "but not limited to", and two
policies had their punctuation changed. Existing databases get the words as written."""

from django.db import migrations

USES = {
    "traffic-monitoring": (
        "Detection and monitoring of traffic including vehicle, pedestrian, or other mode of transportation "
        "presence, speed, volume",
        "Detection and monitoring of traffic including but not limited to vehicle, pedestrian, or other mode of "
        "transportation presence, speed, volume",
    ),
}
POLICIES = {
    "public-health": (
        "when life threatening conditions exist, the Health Department",
        "when life threatening conditions exist the Health Department",
    ),
    "registered-individuals": (
        "specific area/s, including the collection",
        "specific area/s. Including the collection",
    ),
}


def _apply(apps, forward: bool):
    intended_use = apps.get_model("portal", "IntendedUse")
    permissible_use = apps.get_model("portal", "PermissibleUse")
    for code, (old, new) in USES.items():
        before, after = (old, new) if forward else (new, old)
        permissible_use.objects.filter(code=code, name=before).update(name=after)
    for code, (old, new) in POLICIES.items():
        before, after = (old, new) if forward else (new, old)
        for row in intended_use.objects.filter(code=code):
            row.policy = row.policy.replace(before, after)
            row.save(update_fields=["policy"])


def as_written(apps, schema_editor):
    _apply(apps, forward=True)


def as_before(apps, schema_editor):
    _apply(apps, forward=False)


class Migration(migrations.Migration):
    dependencies = [("portal", "0009_audit_chain_not_cuttable")]
    operations = [migrations.RunPython(as_written, as_before)]
