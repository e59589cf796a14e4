"""A fake ESC/POS network printer on 127.0.0.1: records the bytes of every connection,
answers DLE EOT status queries the way a real one does, and can refuse connections, hang,
or run out of paper on demand."""

import contextlib
import socket
import threading
import time

DLE_EOT = b"\x10\x04"
ONLINE = 0x16  # DLE EOT 1: fixed bits only, nothing wrong
PAPER_OK = 0x12  # DLE EOT 4: paper present
PAPER_OUT = 0x7E  # DLE EOT 4: roll paper end sensors set
OFFLINE = 0x1E  # DLE EOT 1: offline bit set
COVER_OPEN = 0x16  # DLE EOT 2: cover open bit set
OFFLINE_CAUSE_NONE = 0x12  # DLE EOT 2: fixed bits only


class FakeTcpPrinter:
    """A printer's raw TCP port (9100 on a real one) on 127.0.0.1: each connection is served
    in a thread by the subclass's `_serve`, which records what was printed in `prints`."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.prints: list[bytes] = []
        self.status_queries = 0
        self._changed = threading.Condition()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._running = True
        self._open_sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def device(self) -> str:
        return f"network:127.0.0.1:{self.port}"

    def close(self) -> None:
        self._running = False
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        for sock in self._open_sockets:
            sock.close()

    def _accept(self) -> None:
        while self._running:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self._open_sockets.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        raise NotImplementedError


class FakePrinter(FakeTcpPrinter):
    """Its `mode`: ok | paper_out | cover_open | no_status | hang | slow | refuse."""

    def refuse(self) -> None:
        """Stop listening: connections are refused, as from a printer switched off."""
        self.mode = "refuse"
        # shutdown() wakes the thread blocked in accept(); close() alone would not.
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()

    def switch_on(self) -> None:
        """Listen again on the same port after refuse()."""
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self.mode = "ok"
        threading.Thread(target=self._accept, daemon=True).start()

    def received(self) -> bytes:
        with self._changed:
            return b"".join(self.prints)

    def wait_for(self, needle: bytes, *, within: float = 20.0, count: int = 1) -> bytes:
        """Wait until `needle` has been printed `count` times; returns everything printed."""
        with self._changed:
            found = self._changed.wait_for(
                lambda: b"".join(self.prints).count(needle) >= count, timeout=within
            )
            everything = b"".join(self.prints)
        assert found, f"{needle!r} printed {everything.count(needle)}/{count} times"
        return everything

    def _serve(self, conn: socket.socket) -> None:
        # One connection sees one state: a probe's DLE EOT 1/2/4 answers are never torn
        # between two modes a test switches through.
        mode = self.mode
        if mode == "hang":
            # Accept and say nothing, ever: the client has to time out.
            time.sleep(60)
            conn.close()
            return
        if mode == "slow":
            # A printer busy with a long receipt: it answers, but late.
            time.sleep(1.5)
        data = b""
        conn.settimeout(30)
        try:
            while chunk := conn.recv(65536):
                data += chunk
                data = self._answer(conn, data, mode)
        except OSError:
            pass
        finally:
            conn.close()
        if data:
            with self._changed:
                self.prints.append(data)
                self._changed.notify_all()

    def _answer(self, conn: socket.socket, data: bytes, mode: str) -> bytes:
        """Answer and strip every complete DLE EOT query in `data`."""
        while (index := data.find(DLE_EOT)) != -1 and len(data) > index + 2:
            query = data[index + 2]
            data = data[:index] + data[index + 3 :]
            self.status_queries += 1
            if mode == "no_status":
                continue
            cover_open = mode == "cover_open"
            if query == 4:
                conn.sendall(bytes([PAPER_OUT if mode == "paper_out" else PAPER_OK]))
            elif query == 1:
                conn.sendall(bytes([OFFLINE if cover_open else ONLINE]))
            else:
                conn.sendall(bytes([COVER_OPEN if cover_open else OFFLINE_CAUSE_NONE]))
        return data
