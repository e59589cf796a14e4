"""Each server process's webhook sender, a task of its dispatcher: polls the outbox, claims
due deliveries, posts each from a worker thread, and records the outcomes in batches.

It never blocks the event loop (database work through `printing.delivery.orm.db`, HTTP in
its own threads) and so never delays printing; a bounded number of requests run at once,
and a failing endpoint gets one of them at a time, so a receiver that hangs cannot hold up
another endpoint's events.
"""

import asyncio
import contextlib
import logging
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from integrations.idempotency import idempotency_records_prune
from integrations.webhooks.signing import signature_headers
from integrations.webhooks.store import (
    Claimed,
    Result,
    deliveries_claim,
    deliveries_record,
    deliveries_release,
    webhooks_maintain,
)
from integrations.webhooks.transport import Attempt, Outcome
from printing.delivery.orm import db
from printing.delivery.outages import Outages
from printing.protocol import SERVER_VERSION

logger = logging.getLogger("integrations.webhooks")
USER_AGENT = f"shop-print-server/{SERVER_VERSION}"
# Disabling failing endpoints, giving up on disabled ones' backlog, pruning history.
MAINTAIN_EVERY = 60.0
# The thread gets this long past the timeout before its attempt is cut off from here.
ABORT_GRACE = 0.5


class WebhookSender:
    def __init__(self, outages: Outages) -> None:
        self.outages = outages
        self.concurrency = settings.PRINT_WEBHOOK_CONCURRENCY
        self.pool = ThreadPoolExecutor(
            max_workers=self.concurrency, thread_name_prefix="webhook-http"
        )
        self.wake = asyncio.Event()
        self.in_flight: dict[int, Claimed] = {}
        self.tasks: set[asyncio.Task] = set()
        # Finished attempts not yet written; written with the next round, in one transaction.
        self.results: list[Result] = []
        self.stopping = False

    async def run(self) -> None:
        last_maintain = -MAINTAIN_EVERY
        while not self.stopping:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(settings.PRINT_WEBHOOK_POLL_INTERVAL):
                    await self.wake.wait()
            self.wake.clear()
            try:
                await self._record()
                if time.monotonic() - last_maintain >= MAINTAIN_EVERY:
                    last_maintain = time.monotonic()
                    await db(webhooks_maintain)()
                    # The integrations' other housekeeping, at the same unhurried pace.
                    await db(idempotency_records_prune)()
                await self._claim_and_send()
            except asyncio.CancelledError:
                raise
            except DatabaseError as exc:
                self.outages.failed("database", exc)
                await asyncio.sleep(1)
            except Exception:
                logger.exception("webhook sending failed; retrying")
                await asyncio.sleep(1)

    async def stop(self) -> None:
        """Cut the attempts in flight short and make them due again at once: the next
        start, or another process, sends them (receivers dedupe on X-Webhook-Id)."""
        self.stopping = True
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        unfinished = list(self.in_flight.values())
        self.in_flight.clear()
        try:
            await self._record()
            if unfinished:
                await db(deliveries_release)(claims=unfinished)
        except Exception:
            logger.exception("webhook outcomes not recorded at shutdown; their leases expire")
        self.pool.shutdown(wait=False, cancel_futures=True)

    async def _record(self) -> None:
        if not self.results:
            return
        batch, self.results = self.results, []
        try:
            disabled = await db(deliveries_record)(results=batch)
        except BaseException:
            # Kept for the next round: a success must not be sent again needlessly.
            self.results = batch + self.results
            raise
        if disabled:
            logger.warning("event=webhook_endpoints_disabled endpoints=%s", disabled)

    async def _claim_and_send(self) -> None:
        free = self.concurrency - len(self.in_flight)
        if free <= 0:
            return
        busy = Counter(claim.endpoint_id for claim in self.in_flight.values())
        claims = await db(deliveries_claim)(
            limit=free, in_flight=dict(busy), per_endpoint=max(1, self.concurrency // 2)
        )
        for claim in claims:
            self.in_flight[claim.delivery_id] = claim
            task = asyncio.get_running_loop().create_task(self._send(claim))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _send(self, claim: Claimed) -> None:
        started = time.monotonic()
        try:
            outcome = await self._post(claim)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.exception("webhook delivery=%s could not be sent", claim.delivery_id)
            outcome = Outcome(False, None, f"internal error: {type(exc).__name__}: {exc}")
        self.in_flight.pop(claim.delivery_id, None)
        self.results.append(Result(claim, outcome, timezone.now()))
        self.wake.set()
        logger.info(
            "webhook delivery=%s endpoint=%s event=%s subject=%s attempt=%s outcome=%s "
            "status=%s ms=%d%s",
            claim.delivery_id,
            claim.endpoint_id,
            claim.event,
            claim.subject,
            claim.attempt,
            "delivered" if outcome.delivered else "failed",
            outcome.status or "-",
            (time.monotonic() - started) * 1000,
            "" if outcome.delivered else f" error={outcome.error!r}",
        )

    async def _post(self, claim: Claimed) -> Outcome:
        timeout = settings.PRINT_WEBHOOK_TIMEOUT
        headers = signature_headers(
            secret=claim.secret, event_id=claim.event_id, body=claim.body, user_agent=USER_AGENT
        )
        attempt = Attempt(claim.url, claim.body, headers, timeout=timeout)
        running = asyncio.get_running_loop().run_in_executor(self.pool, attempt.run)
        try:
            async with asyncio.timeout(timeout + ABORT_GRACE):
                return await running
        except TimeoutError:
            attempt.abort()
            return Outcome(False, None, f"timed out after {timeout:g} s")
        except asyncio.CancelledError:
            attempt.abort()
            raise
