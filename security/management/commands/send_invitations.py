from django.core.management.base import BaseCommand

from security.invitations import invitations_send_all


class Command(BaseCommand):
    help = (
        "Mail an invitation to every active person with a portal role (a city role group, head of a "
        "department, or authorized requester) who has no password yet. Each is written to the audit trail."
    )

    def handle(self, *args, **options):
        sent = invitations_send_all()
        for person in sent:
            self.stdout.write(f"Invited {person.email}.")
        self.stdout.write(f"{len(sent)} invitation{'s' if len(sent) != 1 else ''} sent.")
