from django.apps import AppConfig
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
