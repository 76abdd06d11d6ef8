"""The sign-in page: e-mail address and password."""

from django.urls import reverse

from conftest import PASSWORD

URL = reverse("login")


def test_the_sign_in_page_asks_for_an_e_mail_address_and_a_password(client, db):
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert '<label class="usa-label" for="id_username">E-mail address</label>' in page
    assert '<label class="usa-label" for="id_password">Password</label>' in page
    assert "csrfmiddlewaretoken" in page


def test_a_wrong_password_shows_an_error_and_does_not_sign_in(city, client):
    response = client.post(URL, {"username": city.head.email, "password": "not the password"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'role="alert"' in page
    assert "correct e-mail address and password" in page
    assert "_auth_user_id" not in client.session


def test_the_right_password_signs_in_and_goes_home(city, client):
    response = client.post(URL, {"username": city.head.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.session["_auth_user_id"] == str(city.head.pk)


def test_the_e_mail_address_is_not_case_sensitive(city, client):
    response = client.post(URL, {"username": city.head.email.upper(), "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(city.head.pk)


def test_a_deactivated_person_cannot_sign_in(city, client):
    city.officer.is_active = False
    city.officer.save(update_fields=["is_active"])
    response = client.post(URL, {"username": city.officer.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_signing_in_returns_to_the_page_asked_for(city, client):
    target = reverse("accounts:people")
    response = client.post(f"{URL}?next={target}", {"username": city.head.email, "password": PASSWORD,
                                                     "next": target})
    assert response.url == target
