from django.core.management.base import BaseCommand, CommandError

from access_requests.roster import RosterRefused, roster_apply


class Command(BaseCommand):
    help = (
        "Apply the city's HR roster (CSV: employee_id,full_name,email,department,status,effective_date). "
        "Leavers, leave, returns from leave and transfers become status changes (3.5) and their access goes "
        "to the ITSA queue; new people are created without access. A change dated after today waits (pending) "
        "for the first run on or after its date. A malformed file changes nothing and is mailed to ITSA. "
        "The same file twice changes nothing, unless pending rows of it have come due."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The roster CSV file.")

    def handle(self, *args, file, **options):
        try:
            result = roster_apply(path=file)
        except RosterRefused as refused:
            raise CommandError("The roster was not applied (ITSA is mailed):\n"
                               + "\n".join(f"  {problem}" for problem in refused.problems)) from None
        waiting = (f" Pending: {result.counts.get('pending', 0)}, the first due on {result.pending_from:%Y-%m-%d}."
                   if result.pending_from else "")
        if result.already_applied:
            self.stdout.write(f"{result.file_name} (SHA-256 {result.sha256}) was already applied: nothing changed."
                              f"{waiting}")
            return
        summary = ", ".join(f"{key.replace('_', ' ')}: {value}" for key, value in result.counts.items())
        self.stdout.write(f"{result.file_name} applied. {summary}.{waiting}")
