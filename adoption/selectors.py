"""Reads of imports: which batch brought a grant in."""

from accounts.models import Grant

from .models import AdoptedGrant, ImportBatch, Upload


def adoption_batch_of_grant(grant: Grant) -> ImportBatch | None:
    """The import that brought the grant in ("existing at adoption"), or None. Whoever may see the
    grant may see this."""
    link = AdoptedGrant.objects.select_related("batch__imported_by").filter(grant=grant).first()
    return link.batch if link is not None else None


def uploads_visible_to(user):
    """The import page's uploads: ITSA, who imports, and oversight, who reads every record."""
    if not user.is_authenticated or not user.roles.reads_every_department:
        return Upload.objects.none()
    return Upload.objects.all()


def batches_visible_to(user):
    if not user.is_authenticated or not user.roles.reads_every_department:
        return ImportBatch.objects.none()
    return ImportBatch.objects.all()
