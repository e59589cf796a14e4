"""A dispatcher's channel-layer memberships: one per process and printer, refreshed so that
neither group expiry nor a channel-layer restart can silently drop this process."""

import logging
import time

from channels.layers import BaseChannelLayer, InMemoryChannelLayer

from printing.delivery.bell import BROADCAST_GROUP, NETWORK_GROUP, printer_group
from printing.delivery.outages import Outages

logger = logging.getLogger("printing.delivery")

# Renewed this often: far inside channels' group_expiry (a day), and soon enough after a
# Redis restart that forgot them (pub/sub resubscribes by itself).
REJOIN_INTERVAL = 60


class Groups:
    def __init__(self, layer: BaseChannelLayer | None, outages: Outages) -> None:
        self.layer = layer
        self.outages = outages
        self.channel: str | None = None
        self.joined_at = time.monotonic()

    async def open(self) -> None:
        """A channel of this process's own, in the groups every dispatcher is in."""
        if self.layer is None:
            return
        self.channel = await self.layer.new_channel("printdispatch.")
        await self.join(BROADCAST_GROUP)
        await self.join(NETWORK_GROUP)

    async def join_printer(self, printer_id: int) -> None:
        await self.join(printer_group(printer_id))

    async def leave_printer(self, printer_id: int) -> None:
        if self.layer is None or self.channel is None:
            return
        try:
            await self.layer.group_discard(printer_group(printer_id), self.channel)
        except Exception as exc:
            logger.warning("group_discard %s failed (%s)", printer_group(printer_id), exc)

    async def join(self, group: str) -> None:
        if self.layer is None or self.channel is None:
            return
        try:
            await self.layer.group_add(group, self.channel)
        except Exception as exc:
            logger.warning("group_add %s failed (%s); the sweep covers it", group, exc)

    async def renew(self, printer_ids: list[int]) -> None:
        """Rejoin every group, once a minute."""
        if time.monotonic() - self.joined_at > REJOIN_INTERVAL:
            self.joined_at = time.monotonic()
            for group in [BROADCAST_GROUP, NETWORK_GROUP, *map(printer_group, printer_ids)]:
                await self.join(group)

    async def check_layer(self) -> None:
        """Publish into the void: fails while Redis is away, so the outage gets logged."""
        if self.layer is None or isinstance(self.layer, InMemoryChannelLayer):
            return
        try:
            await self.layer.group_send("print.health", {"type": "print.health"})
        except Exception as exc:
            self.outages.failed("channel_layer", exc)
        else:
            self.outages.ok("channel_layer")
