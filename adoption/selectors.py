"""Reads of imports: which batch brought a grant in."""

from accounts.models import Grant

from .models import AdoptedGrant, ImportBatch


def adoption_batch_of_grant(grant: Grant) -> ImportBatch | None:
    """The import that brought the grant in ("existing at adoption"), or None. Whoever may see the
    grant may see this."""
    link = AdoptedGrant.objects.select_related("batch__imported_by").filter(grant=grant).first()
    return link.batch if link is not None else None
