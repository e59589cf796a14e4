"""Logging a dependency's outage once, not a traceback a second."""

import logging

logger = logging.getLogger("printing.delivery")


class Outages:
    """Logs once when a dependency stops answering and once when it is back."""

    def __init__(self) -> None:
        self.down: dict[str, str] = {}

    def failed(self, what: str, exc: BaseException) -> None:
        if what not in self.down:
            self.down[what] = f"{type(exc).__name__}: {exc}"
            logger.error("event=%s_unavailable error=%s (retrying)", what, self.down[what])

    def ok(self, what: str) -> None:
        if self.down.pop(what, None) is not None:
            logger.warning("event=%s_back", what)
