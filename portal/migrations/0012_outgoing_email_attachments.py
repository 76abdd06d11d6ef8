from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("portal", "0011_aldermen_notice"),
    ]

    operations = [
        migrations.AddField(
            model_name="outgoingemail",
            name="attachments",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
