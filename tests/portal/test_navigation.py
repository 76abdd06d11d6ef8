"""The primary menu is rendered once per set of roles (portal/navigation.py): it must ask about no
role the key leaves out, and two readers with different roles must not share a menu."""

import re
from pathlib import Path

from conftest import signed_in_client
from django.conf import settings
from django.urls import reverse

from portal.navigation import MENU_ROLES

MENU = Path(settings.BASE_DIR) / "templates" / "includes" / "nav_menu.html"


def test_every_role_the_menu_asks_about_is_part_of_its_key():
    asked = set(re.findall(r"roles\.(\w+)", MENU.read_text()))
    assert asked and asked <= set(MENU_ROLES)


def test_each_reader_sees_the_menu_of_their_own_roles(city):
    itsa, head = signed_in_client(), signed_in_client()
    itsa.force_login(city.itsa)
    head.force_login(city.head)
    queue = reverse("requests:queue")

    # The head first, then ITSA, then the head again: the menus kept for each must not mix.
    assert f'href="{queue}"' not in head.get(reverse("home")).content.decode()
    assert f'href="{queue}"' in itsa.get(reverse("home")).content.decode()
    assert f'href="{queue}"' not in head.get(reverse("home")).content.decode()
