from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("portal", "0005_audit_chain_existing_rows"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.PositiveBigIntegerField(editable=False, unique=True, verbose_name="sequence number"),
        ),
    ]
