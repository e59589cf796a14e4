"""The dispatcher's decisions with plain data: no sockets, no database, no event loop."""

from printing.delivery.decisions import (
    FINISHED_MEMORY,
    OFFERED_MEMORY,
    Binding,
    DeliveryBook,
    SocketState,
)


def book_with(*sockets: SocketState) -> DeliveryBook:
    book = DeliveryBook()
    for sock in sockets:
        book.add(sock)
        if sock.printer_id is not None:
            printer, sock.printer_id = sock.printer_id, None
            book.bind(sock, printer)
    return book


def bell_job(job_id: int, printer_id: int | None, attempt: int = 1) -> dict:
    return {"id": job_id, "printer_id": printer_id, "attempt": attempt, "frame": f"frame{job_id}"}


def test_a_printer_job_goes_to_that_printers_sockets_and_an_unaddressed_one_to_all():
    kitchen, kitchen_2, counter = (
        SocketState(1, printer_id=7),
        SocketState(2, printer_id=7),
        SocketState(3, printer_id=8),
    )
    book = book_with(kitchen, kitchen_2, counter)
    sends, sent = book.bell_sends([bell_job(100, 7), bell_job(101, None)])
    assert sorted((s.connection_id, f) for s, f in sends) == [
        (1, "frame100"),
        (1, "frame101"),
        (2, "frame100"),
        (2, "frame101"),
        (3, "frame101"),
    ]
    # One socket per job records the delivery (the claim), whichever got it first.
    assert sum(len(pairs) for pairs in sent.values()) == 2


def test_a_job_is_sent_again_to_a_socket_only_at_a_later_attempt():
    sock = SocketState(1, printer_id=7)
    book = book_with(sock)
    assert len(book.bell_sends([bell_job(100, 7, attempt=1)])[0]) == 1
    assert book.bell_sends([bell_job(100, 7, attempt=1)]) == ([], {})
    sends, sent = book.bell_sends([bell_job(100, 7, attempt=2)])
    assert [s.connection_id for s, _ in sends] == [1]
    assert sent == {1: [(100, 2)]}


def test_a_closed_socket_gets_nothing():
    sock = SocketState(1, printer_id=7, open=False)
    book = book_with(sock)
    assert book.bell_sends([bell_job(100, 7)]) == ([], {})


def test_a_late_bell_for_a_finished_job_is_ignored_until_a_newer_attempt():
    sock = SocketState(1, printer_id=7)
    book = book_with(sock)
    book.bell_sends([bell_job(100, 7, attempt=1)])
    finished = book.unsettled(waiting=set())
    assert finished == {100}
    assert book.settle(finished, {100: "completed"}, now=10.0) == []
    assert sock.sent == {}
    other = SocketState(2)
    book.add(other)
    book.bind(other, 7)
    assert book.bell_sends([bell_job(100, 7, attempt=1)]) == ([], {})
    assert len(book.bell_sends([bell_job(100, 7, attempt=2)])[0]) == 2
    # The finished job is skipped, not the rest of the bell.
    counter = SocketState(3)
    book.add(counter)
    book.bind(counter, 8)
    sends, sent = book.bell_sends([bell_job(100, 7, attempt=1), bell_job(102, 8)])
    assert [(s.connection_id, f) for s, f in sends] == [(3, "frame102")]
    assert sent == {3: [(102, 1)]}


def test_a_stale_offer_settled_late_does_not_lower_a_finished_jobs_attempt():
    # The sweep read job 100 as waiting just before attempt 2 finished on another socket.
    newer, stale = SocketState(1, printer_id=7), SocketState(2, printer_id=8)
    book = book_with(newer, stale)
    book.bell_sends([bell_job(100, 7, attempt=2)])
    book.settle(book.unsettled(set()), {100: "completed"}, now=10.0)
    book.send_to(100, 1, [stale])
    book.settle(book.unsettled(set()), {100: "completed"}, now=20.0)
    assert book.finished == {100: (2, 20.0)}
    assert book.bell_sends([bell_job(100, 7, attempt=2)]) == ([], {})
    assert len(book.bell_sends([bell_job(100, 7, attempt=3)])[0]) == 1


def test_a_job_the_bell_sent_while_the_sweep_was_reading_is_not_sent_again_at_that_attempt():
    # The sweep read the waiting jobs just before job 100 was committed; its bell was sent
    # while the read was under way, so the read's rows do not name it. It still waits
    # (pending until the sent record is written, then sent): it is not finished.
    sock = SocketState(1, printer_id=7)
    book = book_with(sock)
    book.bell_sends([bell_job(100, 7, attempt=1)])
    for status in ("pending", "sent"):
        assert book.settle(book.unsettled(waiting=set()), {100: status}, now=1.0) == []
        assert sock.sent == {100: 1}
        assert book.finished == {}
        # The next sweep reads it as sent at attempt 1: the socket already has that attempt.
        assert book.sweep_plan([(100, 7, "sent")]) == ([], {})
        assert book.send_to(100, 1, [sock]) == []
    # Once it has finished it is forgotten as before.
    book.settle(book.unsettled(waiting=set()), {100: "completed"}, now=2.0)
    assert sock.sent == {}
    assert book.finished == {100: (1, 2.0)}


def test_finished_jobs_are_forgotten_after_a_while():
    sock = SocketState(1, printer_id=7)
    book = book_with(sock)
    book.bell_sends([bell_job(100, 7)])
    book.settle(book.unsettled(set()), {100: "completed"}, now=10.0)
    book.forget_finished(now=10.0 + FINISHED_MEMORY)
    assert 100 in book.finished
    book.forget_finished(now=10.0 + FINISHED_MEMORY + 1)
    assert book.finished == {}


def test_cancelled_jobs_a_socket_held_are_named_for_cancel_job_and_others_are_not():
    holder, bystander = SocketState(1, printer_id=7), SocketState(2, printer_id=8)
    book = book_with(holder, bystander)
    book.bell_sends([bell_job(100, 7), bell_job(101, 7), bell_job(102, 7)])
    # 102 still waits; 100 was cancelled, 101 completed.
    finished = book.unsettled(waiting={102})
    assert finished == {100, 101}
    cancels = book.settle(finished, {100: "cancelled", 101: "completed"}, now=1.0)
    assert [(s.connection_id, job) for s, job in cancels] == [(1, 100)]
    assert holder.sent == {102: 1}


def test_a_deleted_job_is_forgotten_like_a_finished_one():
    sock = SocketState(1, printer_id=7)
    book = book_with(sock)
    book.bell_sends([bell_job(100, 7)])
    assert book.settle(book.unsettled(set()), {}, now=1.0) == []
    assert sock.sent == {}
    assert book.holders == set()


def test_the_sweep_offers_pending_jobs_to_all_and_claims_each_for_one_socket():
    first, second = SocketState(1, printer_id=7), SocketState(2, printer_id=7)
    book = book_with(first, second)
    second.sent[101] = 1
    plan, claims = book.sweep_plan([(100, 7, "pending"), (101, 7, "sent"), (102, 9, "pending")])
    assert [(job, sorted(s.connection_id for s in socks)) for job, socks in plan] == [
        (100, [1, 2]),
        (101, [1]),
    ]
    assert list(claims.values()) == [[100]]
    # A printer with one socket: that socket claims.
    alone = SocketState(3)
    book.add(alone)
    book.bind(alone, 9)
    assert book.sweep_plan([(102, 9, "pending")])[1] == {3: [102]}
    # What a socket gets at the attempt the claim made, it is not sent again.
    assert [s.connection_id for s in book.send_to(101, 1, [first, second])] == [1]
    assert book.send_to(101, 1, [first, second]) == []


def test_binding_says_which_printer_groups_to_join_and_leave():
    a, b = SocketState(1), SocketState(2)
    book = book_with(a, b)
    assert book.bind(a, 7) == Binding(join=7)
    assert book.bind(b, 7) == Binding()
    assert book.bind(a, 8) == Binding(join=8)
    assert book.bind(b, None) == Binding(leave=7)
    assert book.targets(7) == []
    assert book.remove(a) == Binding(leave=8)
    assert book.printers() == []
    # A printer_info that arrives after the socket closed joins no group, so leaves none.
    assert book.bind(a, 9) == Binding()
    assert book.bind(a, None) == Binding()


def test_connection_limits_in_total_and_per_address():
    book = DeliveryBook()
    assert book.slot_reserve("10.0.0.1", max_total=3, max_per_address=2) is None
    assert book.slot_reserve("10.0.0.1", max_total=3, max_per_address=2) is None
    assert "too many connections from 10.0.0.1" in book.slot_reserve(
        "10.0.0.1", max_total=3, max_per_address=2
    )
    assert book.slot_reserve("10.0.0.2", max_total=3, max_per_address=2) is None
    assert "server full" in book.slot_reserve("10.0.0.3", max_total=3, max_per_address=2)
    book.slot_release("10.0.0.1")
    assert book.slot_reserve("10.0.0.3", max_total=3, max_per_address=2) is None
    assert book.by_address == {"10.0.0.1": 1, "10.0.0.2": 1, "10.0.0.3": 1}


def test_removing_a_socket_gives_its_slot_back_once():
    sock = SocketState(1, address="10.0.0.1")
    book = DeliveryBook()
    assert book.slot_reserve("10.0.0.1", max_total=1, max_per_address=1) is None
    book.add(sock)
    book.remove(sock)
    assert book.connected == 0
    book.remove(sock)
    assert book.connected == 0
    assert book.by_address == {}
    assert not sock.open


def test_pings_go_to_quiet_sockets_once_per_interval():
    talkative, quiet = SocketState(1, last_heard=95.0), SocketState(2, last_heard=50.0)
    book = book_with(talkative, quiet)
    assert book.due_for_ping(now=100.0, interval=30.0) == [quiet]
    assert book.due_for_ping(now=110.0, interval=30.0) == []
    # Exactly one interval is enough, for the quiet spell and since the last ping.
    assert book.due_for_ping(now=125.0, interval=30.0) == [talkative]
    assert book.due_for_ping(now=130.0, interval=30.0) == [quiet]
    talkative.heard(150.0)
    assert book.due_for_ping(now=161.0, interval=30.0) == [quiet]


def test_the_heartbeat_names_heard_and_quiet_sockets_and_starts_a_new_count():
    a, b = SocketState(1), SocketState(2, heard_since_beat=False)
    book = book_with(a, b)
    assert book.heard_since_beat() == ([1], [2])
    a.heard(5.0)
    assert book.heard_since_beat() == ([1], [2])
    assert book.heard_since_beat() == ([], [1, 2])


def test_a_socket_remembers_what_it_was_sent_after_the_job_finished_for_late_reports():
    sock = SocketState(1, printer_id=7)
    book = book_with(sock)
    book.send_to(100, 1, [sock])
    book.send_to(100, 2, [sock])
    book.settle({100}, {100: "completed"}, now=0.0)
    assert 100 not in sock.sent
    assert sock.offered[100] == 2
    # Bounded: the oldest are forgotten first.
    for job_id in range(1000, 1000 + OFFERED_MEMORY):
        book.send_to(job_id, 1, [sock])
    assert len(sock.offered) == OFFERED_MEMORY
    assert 100 not in sock.offered


def test_a_job_sent_again_counts_as_recently_offered():
    sock = SocketState(1, printer_id=7)
    book = book_with(sock)
    book.send_to(100, 1, [sock])
    book.send_to(101, 1, [sock])
    book.send_to(100, 2, [sock])
    for job_id in range(1000, 1000 + OFFERED_MEMORY - 1):
        book.send_to(job_id, 1, [sock])
    assert 101 not in sock.offered
    assert sock.offered[100] == 2
