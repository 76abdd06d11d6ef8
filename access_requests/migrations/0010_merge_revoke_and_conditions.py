from django.db import migrations


class Migration(migrations.Migration):
    """Two changes made side by side on 0008: revoking department access, and the statement of how a
    use's conditions are met."""

    dependencies = [
        ("access_requests", "0009_department_access_revoke"),
        ("access_requests", "0009_request_conditions"),
    ]
    operations = []
