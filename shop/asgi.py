"""The ASGI application: Django for HTTP, the printer consumer for WebSockets."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")

from django.core.asgi import get_asgi_application

django_application = get_asgi_application()

from asgiref.sync import ThreadSensitiveContext  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from printing.delivery.orm import orm_executor  # noqa: E402
from printing.routing import websocket_urlpatterns  # noqa: E402
from shop.keys import require_serving_key  # noqa: E402

# Whatever serves this application (runprintserver, daphne, uvicorn) must not start with a
# key anyone can read.
require_serving_key(settings.SECRET_KEY)


class OneDatabaseThread:
    """On SQLite, each request's database work runs on the one thread the print
    dispatcher uses (see printing.delivery.orm.orm_executor): writers in one process then queue
    in order instead of sleep-polling SQLite's lock. Other databases pass through."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        executor = orm_executor()
        if executor is None:
            return await self.app(scope, receive, send)
        async with ThreadSensitiveContext(executor=executor):
            return await self.app(scope, receive, send)


application = ProtocolTypeRouter(
    {
        # The admin's CSS and scripts come from the app directories, so one process serves a
        # complete shop without a separate web server or a collectstatic step.
        "http": ASGIStaticFilesHandler(OneDatabaseThread(django_application)),
        "websocket": URLRouter(websocket_urlpatterns),
    }
)
