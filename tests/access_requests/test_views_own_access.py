"""Every signed-in person sees their own access on the dashboard, even with no role in the portal: an
end user can always tell which accounts the city holds for them."""

from datetime import timedelta

from conftest import provisioned
from django.urls import reverse
from django.utils import timezone

from accounts.models import Grant


def test_an_end_user_with_no_portal_role_sees_their_own_access(city, client):
    grant = provisioned(city, person=city.officer).grant
    client.force_login(city.officer)

    response = client.get(reverse("home"))

    assert response.status_code == 200
    assert response.context["no_role"]
    assert response.context["own_grants"] == [grant]
    page = response.content.decode()
    assert "Your access to surveillance systems" in page and str(city.vms) in page


def test_the_dashboard_marks_a_suspension_and_an_end_date(city, client):
    suspended = provisioned(city, person=city.officer).grant
    Grant.objects.filter(pk=suspended.pk).update(status=Grant.Status.SUSPENDED,
                                                 ends_on=timezone.localdate() + timedelta(days=10))
    client.force_login(city.officer)

    response = client.get(reverse("home"))

    assert [grant.pk for grant in response.context["own_grants"]] == [suspended.pk]
    page = response.content.decode()
    assert "Suspended" in page and "No end date" not in page


def test_removed_access_is_not_listed(city, client):
    provisioned(city, person=city.officer)
    provisioned(city, person=city.officer, action="remove")
    client.force_login(city.officer)

    assert client.get(reverse("home")).context["own_grants"] == []


def test_nobody_sees_anyone_elses_access_in_that_panel(city, client):
    provisioned(city, person=city.officer)
    client.force_login(city.analyst)

    response = client.get(reverse("home"))

    assert response.context["own_grants"] == []
    assert "Your access to surveillance systems" not in response.content.decode()
