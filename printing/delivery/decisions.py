"""The dispatcher's decisions, with no I/O: which sockets get a job at an attempt, which jobs
each socket holds, what has finished or was cancelled, and connection limits.

The async dispatcher asks, then awaits the sends and database calls the answers call for;
the tests ask with plain data.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Statuses as the queue reports them (PrintJob.Status values).
PENDING = "pending"
SENT = "sent"
CANCELLED = "cancelled"
# A finished job is remembered this long (seconds) against a late bell.
FINISHED_MEMORY = 600
# How many jobs a socket remembers having been sent, for its late reports.
OFFERED_MEMORY = 1000


@dataclass(eq=False)
class SocketState:
    """What the dispatcher knows of one printer socket."""

    connection_id: int
    address: str = ""
    printer_id: int | None = None
    # Let in as one printer (token or ticket): printer_info does not move it.
    fixed_printer: bool = False
    # Set when let in by a printer's token: closed if the token is replaced.
    token_hash: str | None = None
    # Set when let in by a staff member's ticket: closed when that member may no longer use
    # the test client.
    user_id: int | None = None
    open: bool = True
    # job id -> attempt sent on this connection; a job is re-sent only at a later attempt.
    sent: dict[int, int] = field(default_factory=dict)
    # The same, kept after the job finished (oldest forgotten first): whether this socket
    # was sent a job it reports on, and which attempt.
    offered: dict[int, int] = field(default_factory=dict)
    last_heard: float = 0.0
    last_ping: float = 0.0
    heard_since_beat: bool = True
    # Sequence number of this socket's latest print_status (see Recorder).
    last_report: int = 0

    def heard(self, now: float) -> None:
        self.last_heard = now
        self.heard_since_beat = True

    def offer(self, job_id: int, attempt: int) -> None:
        self.sent[job_id] = attempt
        self.offered.pop(job_id, None)
        self.offered[job_id] = attempt
        if len(self.offered) > OFFERED_MEMORY:
            del self.offered[next(iter(self.offered))]


@dataclass(frozen=True)
class Binding:
    """Printer groups a (re)binding makes this process leave and join."""

    leave: int | None = None
    join: int | None = None


class DeliveryBook:
    def __init__(self) -> None:
        self.sockets: dict[int, SocketState] = {}
        self.by_printer: dict[int, set[SocketState]] = defaultdict(set)
        # Reserved and open sockets, in total and by client address.
        self.connected = 0
        self.by_address: Counter[str] = Counter()
        # Jobs that left the local sockets' books, with their last attempt and when: a bell
        # that arrives after the sweep delivered and finished a job must not deliver it again.
        self.finished: dict[int, tuple[int, float]] = {}
        # Sockets sent jobs not yet known to be finished.
        self.holders: set[SocketState] = set()

    # Connection limits

    def slot_reserve(self, address: str, *, max_total: int, max_per_address: int) -> str | None:
        """Count one more socket from this address, or say why it would be one too many.
        Every reservation is given back by slot_release()."""
        if self.connected >= max_total:
            return f"server full ({max_total} connections)"
        if self.by_address[address] >= max_per_address:
            return f"too many connections from {address} ({max_per_address})"
        self.connected += 1
        self.by_address[address] += 1
        return None

    def slot_release(self, address: str) -> None:
        self.connected -= 1
        self.by_address[address] -= 1
        if self.by_address[address] <= 0:
            del self.by_address[address]

    # Sockets and their printers

    def add(self, sock: SocketState) -> None:
        self.sockets[sock.connection_id] = sock

    def remove(self, sock: SocketState) -> Binding:
        """The socket closed: its slot is given back and it leaves its printer."""
        sock.open = False
        if self.sockets.pop(sock.connection_id, None) is not None:
            self.slot_release(sock.address)
        return self.bind(sock, None)

    def bind(self, sock: SocketState, printer_id: int | None) -> Binding:
        old = sock.printer_id
        if old == printer_id:
            return Binding()
        sock.printer_id = printer_id
        leave = join = None
        if old is not None and old in self.by_printer:
            self.by_printer[old].discard(sock)
            if not self.by_printer[old]:
                del self.by_printer[old]
                leave = old
        if printer_id is not None and sock.open:
            if printer_id not in self.by_printer:
                join = printer_id
            self.by_printer[printer_id].add(sock)
        return Binding(leave=leave, join=join)

    def printers(self) -> list[int]:
        return list(self.by_printer)

    def targets(self, printer_id: int | None) -> list[SocketState]:
        """The sockets a job for this printer (None: for every printer) goes to."""
        if printer_id is None:
            return list(self.sockets.values())
        return list(self.by_printer.get(printer_id, ()))

    def send_to(self, job_id: int, attempt: int, sockets: Iterable[SocketState]) -> list:
        """Of these sockets, those to send the job to at this attempt; booked as sent."""
        chosen = []
        for sock in sockets:
            if sock.open and sock.sent.get(job_id, 0) < attempt:
                sock.offer(job_id, attempt)
                self.holders.add(sock)
                chosen.append(sock)
        return chosen

    # The bell

    def bell_sends(
        self, jobs: Iterable[Mapping[str, Any]]
    ) -> tuple[list[tuple[SocketState, str]], dict[int, list[tuple[int, int]]]]:
        """For a bell's jobs ({id, printer_id, attempt, frame}): the (socket, frame) sends,
        and the deliveries to record, {connection: [(job, attempt)]}, one socket per job."""
        sends: list[tuple[SocketState, str]] = []
        sent: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for job in jobs:
            job_id, attempt = job["id"], job["attempt"]
            if self.finished.get(job_id, (0, 0.0))[0] >= attempt:
                continue
            chosen = self.send_to(job_id, attempt, self.targets(job["printer_id"]))
            sends += [(sock, job["frame"]) for sock in chosen]
            if chosen:
                sent[chosen[0].connection_id].append((job_id, attempt))
        return sends, dict(sent)

    # The sweep

    def sweep_plan(
        self, rows: Iterable[tuple[int, int | None, str]]
    ) -> tuple[list[tuple[int, list[SocketState]]], dict[int, list[int]]]:
        """For waiting jobs (id, printer_id, status): which sockets may get each, and which
        pending jobs to claim for which socket, {connection: [job ids]}.

        A pending job is offered to every socket of its printer again (a new attempt); a job
        already sent only to the sockets that have not had it on this connection."""
        plan: list[tuple[int, list[SocketState]]] = []
        claims: dict[int, list[int]] = defaultdict(list)
        for job_id, printer_id, status in rows:
            targets = [
                sock
                for sock in self.targets(printer_id)
                if status == PENDING or job_id not in sock.sent
            ]
            if targets:
                plan.append((job_id, targets))
                if status == PENDING:
                    claims[targets[0].connection_id].append(job_id)
        return plan, dict(claims)

    def unsettled(self, waiting: set[int]) -> set[int]:
        """Jobs open sockets hold that are no longer waiting: finished, one way or another."""
        self.holders = {sock for sock in self.holders if sock.open}
        return {job_id for sock in self.holders for job_id in sock.sent if job_id not in waiting}

    def settle(
        self, finished: set[int], statuses: Mapping[int, str], *, now: float
    ) -> list[tuple[SocketState, int]]:
        """Forget the finished jobs (their `statuses` now); returns the (socket, job) pairs
        to send `cancel_job` to, for the cancelled ones.

        A job whose status says it still waits is kept: the bell may have sent it while the
        sweep was reading the rows that do not name it, and forgetting it would let the next
        sweep send it to the same socket again at the same attempt."""
        finished = {job_id for job_id in finished if statuses.get(job_id) not in (PENDING, SENT)}
        cancels = []
        for sock in list(self.holders):
            for job_id in [job_id for job_id in sock.sent if job_id in finished]:
                attempt = sock.sent.pop(job_id)
                last = self.finished.get(job_id, (0, 0.0))[0]
                self.finished[job_id] = (max(attempt, last), now)
                if statuses.get(job_id) == CANCELLED:
                    cancels.append((sock, job_id))
            if not sock.sent:
                self.holders.discard(sock)
        return cancels

    def forget_finished(self, *, now: float) -> None:
        for job_id in [j for j, (_, at) in self.finished.items() if at < now - FINISHED_MEMORY]:
            del self.finished[job_id]

    # Heartbeats

    def due_for_ping(self, *, now: float, interval: float) -> list[SocketState]:
        """Sockets quiet for an interval and not pinged within one; booked as pinged."""
        due = [
            sock
            for sock in self.sockets.values()
            if now - sock.last_heard >= interval and now - sock.last_ping >= interval
        ]
        for sock in due:
            sock.last_ping = now
        return due

    def heard_since_beat(self) -> tuple[list[int], list[int]]:
        """Connections (heard, quiet) since the last beat; starts the next beat's count."""
        heard, quiet = [], []
        for sock in self.sockets.values():
            (heard if sock.heard_since_beat else quiet).append(sock.connection_id)
            sock.heard_since_beat = False
        return heard, quiet
