from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import User
from security.services import account_unlock


class Command(BaseCommand):
    help = (
        "Break glass: release every lock of one account after failed sign-ins, from every address, and "
        "forget its failures. For when no other ITSA administrator can sign in to release it on the "
        "Locked accounts page. Written to the audit trail."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help="The e-mail address of the locked person.")

    def handle(self, *args, email, **options):
        people = list(User.objects.filter(email__iexact=email.strip())[:2])
        if not people:
            raise CommandError(f"No person has the e-mail address {email!r}; nothing was changed.")
        if len(people) > 1:
            raise CommandError(f"More than one person has the e-mail address {email!r} in some spelling; "
                               "nothing was changed.")
        [person] = people
        locks = account_unlock(user=person, by=None)
        if not locks:
            self.stdout.write(f"{person.email} had no open lock; their failed sign-ins are forgotten.")
            return
        for lock in locks:
            locked_at = timezone.localtime(lock.locked_at)
            self.stdout.write(f"Released the lock of {person.email} {lock.where} (locked {locked_at:%Y-%m-%d %H:%M}).")
        self.stdout.write(f"{person.email} can sign in again from every address; the audit trail records this.")
