"""The ASGI application: Django for HTTP, the printer consumer for WebSockets."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")

from django.core.asgi import get_asgi_application

django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from printing.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        # The admin's CSS and scripts come from the app directories, so one process serves a
        # complete shop without a separate web server or a collectstatic step.
        "http": ASGIStaticFilesHandler(django_application),
        "websocket": URLRouter(websocket_urlpatterns),
    }
)
