from django.apps import AppConfig
from django.db.models.signals import pre_save
from django.utils.translation import gettext_lazy as _


class PrintingConfig(AppConfig):
    name = "printing"
    verbose_name = _("Printing")

    def ready(self) -> None:
        from django.conf import settings
        from django.contrib import admin
        from django.utils.text import format_lazy

        from printing import signals  # noqa: F401  (connects the receivers)

        admin.site.site_header = format_lazy("{} · {}", settings.SHOP_NAME, _("Administration"))
        admin.site.site_title = admin.site.site_header
        admin.site.index_title = _("Shop administration")
        pre_save.connect(_no_stock_theme_title, sender="admin_interface.Theme")


def _no_stock_theme_title(sender, instance, **kwargs) -> None:
    # django-admin-interface makes its default theme on first use, titled "Django
    # administration"; without a title the admin shows the shop's name (site_header).
    if instance.title == "Django administration":
        instance.title = ""
