"""The connection to NATS: credentials, TLS, endless reconnects, and logs without secrets.

Credentials come from a file (``--nats-creds``), never from argv, where every user of the
machine can read them (``ps``). The file is either a NATS ``.creds`` file (a user JWT and
its NKey seed, as ``nsc`` writes them) or ``key=value`` lines::

    # charla's account on NATS
    user=charla-n1
    password=…

(or ``token=…``). A URL may still carry ``user:password@``; it is never logged as is.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from pathlib import Path

import nats
import nats.errors
from nats.aio.client import Client as NatsClient

from ..bus import BusUnavailable
from ..protocol import Code, ProtocolError
from .settings import ClusterSettings, safe_url, split_urls

__all__ = ["CONNECT_TIMEOUT", "connect_nats", "load_credentials", "unreachable"]

log = logging.getLogger("charla.cluster")

#: Seconds a node waits for NATS at start before giving up with a clear error.
CONNECT_TIMEOUT = 5.0
_JWT_MARK = "-----BEGIN NATS USER JWT-----"
_CREDENTIAL_KEYS = frozenset({"user", "password", "token"})


def load_credentials(path: Path) -> dict[str, str]:
    """The ``nats.connect`` options for the credentials file ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BusUnavailable(f"cannot read --nats-creds {path}: {exc}") from None
    if _JWT_MARK in text:
        return {"user_credentials": str(path)}
    options: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or key not in _CREDENTIAL_KEYS or not value.strip():
            # Never echo the line: it may be a password.
            raise BusUnavailable(
                f"--nats-creds {path}, line {number}: expected user=, password= or token="
            )
        options[key] = value.strip()
    if not ("token" in options or {"user", "password"} <= options.keys()):
        raise BusUnavailable(f"--nats-creds {path}: give user= and password=, or token=")
    return options


def tls_context(settings: ClusterSettings) -> ssl.SSLContext | None:
    """The TLS context for NATS, or None when no TLS flag was given (a ``tls://`` URL
    then still gets nats-py's default, the system's CAs)."""
    if not settings.uses_tls:
        return None
    try:
        context = ssl.create_default_context(
            cafile=str(settings.tls_ca) if settings.tls_ca else None
        )
        if settings.tls_cert is not None:
            context.load_cert_chain(settings.tls_cert, settings.tls_key)
    except (ssl.SSLError, OSError) as exc:
        raise BusUnavailable(f"cannot use the NATS TLS files: {exc}") from None
    return context


async def connect_nats(
    settings: ClusterSettings,
    *,
    on_disconnect: Callable[[], None] | None = None,
    on_reconnect: Callable[[], None] | None = None,
) -> NatsClient:
    """Connect, or raise :class:`BusUnavailable` saying why; once connected, reconnects
    are endless: a NATS outage never ends the node."""
    where = safe_url(settings.url)
    options: dict[str, object] = {}
    if settings.creds is not None:
        options.update(load_credentials(settings.creds))
    context = tls_context(settings)
    if context is not None:
        options["tls"] = context
    loop = asyncio.get_running_loop()
    #: Set by the first error that retrying cannot cure (credentials, certificates).
    refused: asyncio.Future[Exception] = loop.create_future()
    errors: list[Exception] = []
    connected = False

    async def error_cb(exc: Exception) -> None:
        log.debug("nats: %s", exc)
        if connected:
            return
        errors.append(exc)
        if _hopeless(exc) and not refused.done():
            refused.set_result(exc)

    async def disconnected_cb() -> None:
        if connected:
            log.warning("nats: disconnected from %s", where)
            if on_disconnect is not None:
                on_disconnect()

    async def reconnected_cb() -> None:
        log.warning("nats: reconnected")
        if on_reconnect is not None:
            on_reconnect()

    connecting: asyncio.Future[NatsClient] = asyncio.ensure_future(
        nats.connect(
            split_urls(settings.url),
            name=settings.node,
            allow_reconnect=True,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.25,
            connect_timeout=2,
            ping_interval=2,
            max_outstanding_pings=3,
            inbox_prefix=settings.inbox_prefix,
            error_cb=error_cb,
            disconnected_cb=disconnected_cb,
            reconnected_cb=reconnected_cb,
            **options,
        )
    )
    waiting: set[asyncio.Future[object]] = {connecting, refused}  # type: ignore[arg-type]
    await asyncio.wait(waiting, timeout=CONNECT_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
    if connecting.done() and connecting.exception() is None:
        connected = True
        return connecting.result()
    connecting.cancel()
    reason = refused.result() if refused.done() else (errors[-1] if errors else None)
    raise BusUnavailable(f"cannot reach NATS at {where}: {_describe(reason)}")


def _hopeless(exc: Exception) -> bool:
    """An error retrying will not cure: refused credentials, a certificate not trusted."""
    if isinstance(exc, ssl.SSLError | nats.errors.AuthorizationError):
        return True
    return "authorization" in str(exc).lower()


def _describe(exc: Exception | None) -> str:
    if exc is None:
        return "no answer"
    if _hopeless(exc) and not isinstance(exc, ssl.SSLError):
        return "NATS refused the credentials (check --nats-creds)"
    return str(exc) or type(exc).__name__


def unreachable(exc: BaseException) -> ProtocolError:
    """What a client is told when NATS cannot answer its request now."""
    log.warning("cluster store unreachable: %s", exc or type(exc).__name__)
    return ProtocolError(Code.UNAVAILABLE, "the cluster is unreachable: try again shortly")
