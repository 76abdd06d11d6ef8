from django.core.management.base import BaseCommand

from audits.services import open_due_validations


class Command(BaseCommand):
    help = "Open the annual validations that have come due (what the daily task does) and list them."

    def handle(self, *args, **options):
        opened = open_due_validations()
        for validation in opened:
            count = validation.items.count()
            self.stdout.write(f"Opened: {validation.department} — {count} item{'s' if count != 1 else ''}, "
                              f"due {validation.due_date:%Y-%m-%d}")
        self.stdout.write(f"{len(opened)} validation{'s' if len(opened) != 1 else ''} opened.")
