"""A loopback TCP proxy in front of a node, to cut and restore the connection: a node outage that
keeps the chain's state, which stopping a hardhat node would lose."""

from __future__ import annotations

import contextlib
import socket
import threading

__all__ = ["TcpProxy"]


class TcpProxy:
    """Listens on a loopback port of the kernel's choosing (``port``, known once constructed) and
    forwards each connection to ``target_port``. :meth:`stop` closes the listening socket and every
    connection (clients are refused, as by a node that went away); :meth:`start` listens again on
    the same port."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._server: socket.socket | None = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.port: int = self._server.getsockname()[1]
        self._accepting = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self._lock:
            if self._server is None:
                # back after an outage: the port the clients know (free since the outage began)
                self._server = socket.create_server(("127.0.0.1", self.port), backlog=64)
            elif self._accepting:
                return
            self._accepting = True
            server = self._server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            if self._server is not None:
                with contextlib.suppress(OSError):
                    self._server.shutdown(socket.SHUT_RDWR)  # wakes the accept() in progress
                self._server.close()
                self._server = None
            self._accepting = False
            for s in self._sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self._sockets.clear()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()  # the node itself is gone: the client sees the connection end
                continue
            with self._lock:
                if self._server is not server:  # cut while this connection was being set up
                    client.close()
                    upstream.close()
                    continue
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
