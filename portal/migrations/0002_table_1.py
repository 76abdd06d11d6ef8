from django.db import migrations

from portal.table1 import TABLE_1


def load(apps, schema_editor):
    IntendedUse = apps.get_model("portal", "IntendedUse")
    PermissibleUse = apps.get_model("portal", "PermissibleUse")
    for position, row in enumerate(TABLE_1, start=1):
        intended, _ = IntendedUse.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "policy": row["policy"],
                "conditions": "\n".join(row["conditions"]),
                "position": position,
            },
        )
        for use_position, (code, name) in enumerate(row["uses"], start=1):
            PermissibleUse.objects.update_or_create(
                code=code, defaults={"intended_use": intended, "name": name, "position": use_position}
            )


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
