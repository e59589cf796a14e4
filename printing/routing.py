from django.urls import re_path

from printing.consumers import NotFoundConsumer, PrinterConsumer

websocket_urlpatterns = [
    # ws://HOST:8765/ as the shop's clients connect, and /ws/print/ on either port.
    re_path(r"^$", PrinterConsumer.as_asgi()),
    re_path(r"^ws/print/?$", PrinterConsumer.as_asgi()),
    re_path(r"", NotFoundConsumer.as_asgi()),
]
