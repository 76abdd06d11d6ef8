from django.db import migrations

from portal.table1 import load_table_1


def load(apps, schema_editor):
    load_table_1(apps.get_model("portal", "IntendedUse"), apps.get_model("portal", "PermissibleUse"))


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
