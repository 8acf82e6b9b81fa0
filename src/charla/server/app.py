"""The server process: listener, background duties, signals, orderly shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import signal
import sqlite3
import ssl
import time
from collections.abc import Callable

from ..bus import Bus
from ..bus.local import LocalBus
from ..settings import SettingError
from ..store import Retention, Store, StoreError
from .config import ServerConfig, diff_reloadable, reloaded
from .connection import Connection
from .hub import Hub
from .limits import Clock
from .metrics_http import start_metrics_server
from .presence import LocalPresence, Presence
from .tls import TlsConnection
from .web import start_web

__all__ = ["ChatServer", "ConfigError", "raise_file_limit", "run"]

log = logging.getLogger("charla.server")

#: How often pruning runs when a retention policy is set.
PRUNE_EVERY = 3600.0
#: How often the database path is compared with the open file (StoreHealth): a removed
#: or replaced file is noticed within this many seconds.
STORE_CHECK_EVERY = 1.0


#: Connections the kernel may hold for the accept loop, at least: after a restart every
#: client comes back within seconds (``charla bench storm``). Linux caps the backlog at
#: ``net.core.somaxconn`` (4096 by default); past it a connection waits for its SYN to be
#: sent again, one second and then doubling.
LISTEN_BACKLOG = 4096


def listen_backlog(max_clients: int) -> int:
    """Room for every client allowed to come back at once (the kernel may cap it)."""
    return max(LISTEN_BACKLOG, max_clients)


class ConfigError(Exception):
    """The configuration cannot work; the message says why."""


class ChatServer:
    """A charla server: ``await start()``, then ``await stop()`` (or ``serve_forever``).

    Alone by default (:class:`LocalBus`, :class:`LocalPresence`); a cluster node when given
    the bus and presence ``charla.cluster.build_cluster`` made over ``store``.
    """

    def __init__(
        self,
        config: ServerConfig,
        *,
        store: Store | None = None,
        bus: Bus | None = None,
        presence: Presence | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        if config.nats is not None and bus is None:
            # Never a silent single server where a cluster node was asked for.
            raise ConfigError("a cluster node needs its bus: use charla.cluster.cluster_server")
        self.config = config
        #: The one clock of limits, timeouts and liveness (tests pass a fake one).
        self.clock = clock
        self.store = store if store is not None else Store(config.db, fsync=config.fsync)
        self.presence: Presence = presence if presence is not None else LocalPresence()
        self.bus: Bus = bus if bus is not None else LocalBus(self.store)
        self._listener: asyncio.Server | None = None
        self._duties: list[asyncio.Task[None]] = []
        self.hub: Hub | None = None
        self.port = config.port
        self._stopped = asyncio.Event()
        self._metrics: asyncio.Server | None = None
        self.metrics_port: int | None = None
        self._web: asyncio.Server | None = None
        self.web_port: int | None = None
        self._prune_now = asyncio.Event()
        self._irc_listeners: list[asyncio.Server] = []
        self.irc_ports: list[int] = []

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        tls = self._tls_context()  # before anything starts: a bad certificate stops here
        hub = self.hub = Hub(
            self.config, self.store, self.bus, loop=loop, clock=self.clock, presence=self.presence
        )
        # Presence first: events in the log are handed to it while the bus catches up.
        await self.presence.start(hub)
        await self.bus.start(hub)
        try:
            # TLS starts on each socket after it is admitted (see TlsConnection).
            self._listener = await loop.create_server(
                (lambda: TlsConnection(hub, tls)) if tls is not None else (lambda: Connection(hub)),
                self.config.host,
                self.config.port,
                backlog=listen_backlog(self.config.max_clients),
                reuse_address=True,
            )
            self.port = self._listener.sockets[0].getsockname()[1]
            await self._start_irc(hub, tls)
            if self.config.metrics_port is not None:
                self._metrics = await start_metrics_server(
                    self.config.host, self.config.metrics_port, self.render_metrics
                )
                self.metrics_port = self._metrics.sockets[0].getsockname()[1]
            if self.config.web is not None:
                self._web = await start_web(hub, self.config, tls)
                self.web_port = self._web.sockets[0].getsockname()[1]
        except BaseException:
            await self.stop()
            raise
        self._duties.append(loop.create_task(self._check_timeouts_forever(hub)))
        self._duties.append(loop.create_task(self._watch_store_forever()))
        self._duties.append(loop.create_task(self._prune_forever()))

    async def _start_irc(self, hub: Hub, tls: ssl.SSLContext | None) -> None:
        """The IRC listeners (docs/irc.md): ``irc`` in clear, ``irc_tls`` with the
        server's certificate; ``irc_ports`` holds the ports they got."""
        from ..irc.transport import IrcConnection, split_address

        loop = asyncio.get_running_loop()
        created = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        for address, context in ((self.config.irc, None), (self.config.irc_tls, tls)):
            if address is None:
                continue
            host, port = split_address(address)
            listener = await loop.create_server(
                lambda: IrcConnection(hub, created), host, port, ssl=context, reuse_address=True
            )
            self._irc_listeners.append(listener)
            self.irc_ports.append(listener.sockets[0].getsockname()[1])

    def render_metrics(self) -> str:
        assert self.hub is not None
        hub = self.hub
        return hub.metrics.render(
            clients=len(hub.admission),
            rooms=len(hub.rooms),
            commits=getattr(self.bus, "commits", 0),
        )

    def _tls_context(self) -> ssl.SSLContext | None:
        if self.config.tls_cert is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(self.config.tls_cert, self.config.tls_key)
        except (ssl.SSLError, OSError) as exc:
            raise ConfigError(
                f"cannot use {self.config.tls_cert} as TLS certificate: {exc}"
            ) from None
        return context

    async def _check_timeouts_forever(self, hub: Hub) -> None:
        while True:
            config = hub.config  # a reload may change the timeouts
            timeouts = [config.ping_interval, config.ping_timeout, config.handshake_timeout]
            await asyncio.sleep(max(0.05, min(t for t in timeouts if t > 0) / 4))
            hub.check_timeouts()

    async def _watch_store_forever(self) -> None:
        while True:
            await asyncio.sleep(STORE_CHECK_EVERY)
            self.store.health.check()

    async def _prune_forever(self) -> None:
        # Reads the retention each time round: a reload may set, change or clear it.
        while True:
            self._prune_now.clear()
            retention = self.config.retention
            if not retention.unlimited:
                await self._prune(retention)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._prune_now.wait(), PRUNE_EVERY)

    async def _prune(self, retention: Retention) -> None:
        try:
            deleted = await asyncio.to_thread(self.store.prune, retention)
        except (StoreError, sqlite3.Error) as exc:
            log.error("retention: could not prune: %s", exc)
            return
        if deleted:
            log.info("retention: pruned %d messages", deleted)

    def reload(self, new: ServerConfig) -> None:
        """Take the settings of ``new`` that can change while running; log the others.

        The hub and the connections read limits from ``hub.config`` when they use them,
        so swapping the object is the whole reload.
        """
        changes, needs_restart = diff_reloadable(self.config, new)
        for key, (before, after) in changes.items():
            log.info("reload: %s %r -> %r", key, before, after)
        for key in needs_restart:  # no values: one of them may be the server password
            log.warning("reload: %s changed, which needs a restart; still the old value", key)
        if not changes and not needs_restart:
            log.info("reload: no setting changed")
        retention = self.config.retention
        self.config = reloaded(self.config, new)
        if self.hub is not None:
            self.hub.config = self.config
        if self.config.retention != retention:
            self._prune_now.set()

    def _reload_from(self, load: Callable[[], ServerConfig]) -> None:
        try:
            new = load()
        except SettingError as exc:
            log.error("reload refused, the running settings stay: %s", exc)
            return
        self.reload(new)

    async def stop(self, reason: str = "shutdown") -> None:
        """Stop accepting, deliver what is in flight, say ``bye`` to all, close the store.

        Everything that may use the store has ended before it closes: the duties and the
        hub's tasks are cancelled and awaited, the bus's writer is joined, and
        ``Store.close`` itself waits for worker threads still inside a query.
        """
        if self._stopped.is_set():
            return
        self._stopped.set()
        for listener in (self._listener, self._metrics, self._web, *self._irc_listeners):
            if listener is not None:
                listener.close()
        for duty in self._duties:
            duty.cancel()
        await asyncio.gather(*self._duties, return_exceptions=True)
        if self.hub is not None:
            await self.hub.shutdown(reason)
            self.hub.accounts.close()
        await self.presence.close()
        await self.bus.close()
        self.store.close()

    async def serve_forever(self, reload: Callable[[], ServerConfig] | None = None) -> None:
        """Run until SIGTERM or SIGINT, then stop cleanly; on SIGHUP, :meth:`reload`
        what ``reload()`` returns (the config file read again)."""
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        if reload is not None:
            loop.add_signal_handler(signal.SIGHUP, self._reload_from, reload)
        try:
            await stop.wait()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)
            log.info("stopping")
            await self.stop()


def raise_file_limit(wanted: int) -> int:
    """Raise the soft limit of open files to the hard limit; returns the new soft limit.

    Every client is a file descriptor: the common default of 1024 caps a server far
    below ``--max-clients``.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    if soft < wanted + 64:
        log.warning(
            "open-file limit %d is too low for --max-clients %d; raise it (ulimit -n)",
            soft,
            wanted,
        )
    return soft


def install_uvloop() -> bool:
    try:
        import uvloop
    except ImportError:
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True


def run(
    config: ServerConfig,
    make_server: Callable[[ServerConfig], ChatServer] = ChatServer,
    *,
    reload: Callable[[], ServerConfig] | None = None,
) -> None:
    """Run a server in this process until SIGTERM/SIGINT (what ``charla serve`` does);
    ``make_server`` makes a cluster node instead (``charla.cluster.cluster_server``);
    SIGHUP reloads the settings ``reload()`` returns."""
    fast = install_uvloop()
    limit = raise_file_limit(config.max_clients)

    async def main() -> None:
        server = make_server(config)
        await server.start()
        scheme = "tls" if config.tls_cert else "tcp"
        log.info(
            "charla %slistening on %s://%s:%d (history in %s; event loop: %s; open files: %d)",
            f"node {server.presence.node} " if server.presence.node else "",
            scheme,
            config.host,
            server.port,
            config.db,
            "uvloop" if fast else "asyncio",
            limit,
        )
        if server.web_port is not None:
            log.info(
                "web client on %s://%s:%d/",
                "https" if config.tls_cert else "http",
                (config.web or "").rpartition(":")[0],
                server.web_port,
            )
        await server.serve_forever(reload)

    asyncio.run(main())
