from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from integrations.api import api

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="backoffice:board", permanent=False)),
    # The admin's language chooser (中文 / English) posts here.
    path("i18n/", include("django.conf.urls.i18n")),
    # Before admin/: /admin/print/ is ours, not a model admin.
    path("", include("printing.urls")),
    # The integration API (django-ninja): /api/orders, /api/webhooks, ..., /api/docs.
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    path("backoffice/", include("orders.urls")),
]
