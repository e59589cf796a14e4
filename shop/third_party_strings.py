"""Words of django-admin-interface that show in the admin: it ships no Chinese translation,
so they are listed here for `makemessages` and translated in locale/zh_Hans."""

from django.utils.translation import gettext_noop as _

ADMIN_INTERFACE = [
    _("Admin Interface"),
    _("Theme"),
    _("Themes"),
    _("Filter"),
    _("Hide counts"),
    _("Show counts"),
    _("Clear all filters"),
    _("Change"),
    _("View"),
    _("View on site"),
    _("Delete?"),
    _(" By %(filter_title)s "),
    _("Popup closing..."),
    _("Language chooser"),
    _("Environment"),
    _("Logo"),
    _("Favicon"),
    _("Title"),
    _("Header"),
    _("title"),
    _("color"),
    _("visible"),
    _("logo"),
]
