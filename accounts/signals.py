"""What accounts tells the apps above it, which it cannot call: they connect receivers here."""

from django.dispatch import Signal

# A person was given a portal role in a service of this app (made a department head, added to a
# department's authorized requesters). Sent with `person` and `by`, inside the service's
# transaction. security sends the person an invitation when they cannot sign in yet.
portal_role_given = Signal()
