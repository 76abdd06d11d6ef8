"""`manage.py import_city DIR [--dry-run] [--by EMAIL]`: bring a city's records in (README, "Bringing a city in")."""

import sys

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from adoption.services import REFUSED, import_apply, import_plan, require_importer
from portal.errors import NotAllowed, RuleViolation

BAR_WIDTH = 30


class Bar:
    """A plain text progress bar on stderr, so the row-by-row report on stdout stays clean."""

    def __init__(self, stream, label):
        self.stream, self.label, self.last = stream, label, -1

    def __call__(self, done, total):
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        if filled == self.last and done != total:
            return
        self.last = filled
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total}")
        if done == total:
            self.stream.write("\n")
        self.stream.flush()


class Command(BaseCommand):
    help = ("Import departments, people, systems and existing accounts from CSV files in DIR. With --dry-run, "
            "print what would be created, changed and refused, and write nothing.")

    def add_arguments(self, parser):
        parser.add_argument("directory")
        parser.add_argument("--dry-run", action="store_true", help="Check the files and write nothing.")
        parser.add_argument("--by", help="E-mail address of the ITSA administrator recorded as the importer.")

    def handle(self, *args, directory, dry_run, by, **options):
        importer = None
        if not dry_run:
            if not by:
                raise CommandError("A real run needs --by EMAIL: the ITSA administrator recorded as the importer.")
            importer = User.objects.filter(email__iexact=by.strip()).first()
            if importer is None:
                raise CommandError(f"No person has the e-mail address {by}.")
            try:
                require_importer(importer)  # before the files are read: a large city takes a while
            except NotAllowed as error:
                raise CommandError(error.message) from error
        stderr = getattr(self.stderr, "_out", sys.stderr)
        plan = import_plan(directory, progress=Bar(stderr, "Checking"))
        for row in plan.rows:
            self.stdout.write(str(row))
        totals = plan.totals()
        self.stdout.write(", ".join(f"{count} {outcome}" for outcome, count in totals.items()))
        if plan.refused:
            raise CommandError(f"{totals[REFUSED]} row(s) refused: nothing was imported.")
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
            return
        try:
            applied = import_apply(plan, by=importer, progress=Bar(stderr, "Importing"))
        except RuleViolation as error:
            raise CommandError(error.message) from error
        if applied.batch is None:
            self.stdout.write("Nothing to import: every row is already in the portal.")
            return
        self.stdout.write(f"Imported as batch {applied.batch.pk}.")
        for validation in applied.validations:
            self.stdout.write(f"Baseline validation: {validation} (due {validation.due_date:%Y-%m-%d}).")
