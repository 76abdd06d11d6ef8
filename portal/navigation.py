"""The primary menu, rendered once per set of roles.

The menu's links depend on nothing but which roles the reader holds, and the roles are read for
every request (accounts.models.Roles): what is kept here is the HTML for a combination of them,
never who holds what."""

from django.template.loader import get_template
from django.urls import get_script_prefix
from django.utils.safestring import SafeString

# The roles the menu asks about (templates/includes/nav_menu.html); a new one belongs here too.
MENU_ROLES = ("works_for_a_department", "reads_every_department", "is_designee", "is_itsa", "is_head",
              "is_oversight", "is_director")

_rendered: dict[tuple, SafeString] = {}


def primary_menu(roles) -> SafeString:
    flags = {name: bool(getattr(roles, name)) for name in MENU_ROLES}
    key = (get_script_prefix(), *flags.values())
    menu = _rendered.get(key)
    if menu is None:
        menu = _rendered[key] = SafeString(get_template("includes/nav_menu.html").render({"roles": flags}))
    return menu
