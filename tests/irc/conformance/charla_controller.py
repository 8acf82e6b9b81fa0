"""irctest's controller for charla: how the IRC conformance suite starts a charla server.

irctest (the suite IRC servers are measured with) is not part of charla; ``run.sh`` runs
a checkout of it with this module as ``--controller charla_controller``. Like irctest's
own controllers for ergo or ngircd, it starts the server on the ports the test picked,
with the server password the test asks for, and registers the accounts SASL tests log
in with — through charla's native protocol, the way a charla user registers a nick.

The limits are raised as for the other servers irctest runs (it connects dozens of
clients from 127.0.0.1 and sends bursts no person would): nothing else is configured,
so what the suite sees is charla as it ships.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from typing import Any

from irctest.basecontrollers import BaseServerController, DirectoryBasedController
from irctest.cases import BaseServerTestCase
from irctest.runner import NotImplementedByController

#: The server name irctest's tests expect in numerics such as ``RPL_WHOREPLY``.
SERVER_NAME = "My.Little.Server"
#: Capabilities charla offers (``CAP LS``): a test skips a NAK'd one only if unlisted.
CAPABILITIES = frozenset(
    {
        "account-tag",
        "batch",
        "cap-notify",
        "draft/chathistory",
        "draft/message-redaction",
        "draft/multiline",
        "draft/read-marker",
        "echo-message",
        "labeled-response",
        "message-tags",
        "multi-prefix",
        "sasl",
        "server-time",
    }
)
#: Seconds to wait for the native answer to a registration.
REGISTER_TIMEOUT = 10.0
#: charla's shortest account password (``server/accounts.py``); irctest's is "sesame".
MIN_PASSWORD = 8


def charla_command() -> list[str]:
    """``$CHARLA`` if set (run.sh sets the worktree's), else ``charla`` on PATH."""
    found = os.environ.get("CHARLA") or shutil.which("charla")
    if not found:
        raise RuntimeError("set CHARLA to the charla executable")
    return [found]


class CharlaController(BaseServerController, DirectoryBasedController):
    software_name = "charla"
    supported_sasl_mechanisms = frozenset({"PLAIN"})
    supports_sts = False

    def supports_cap(self, cap: str) -> bool:
        return cap in CAPABILITIES

    def run(
        self,
        hostname: str,
        port: int,
        *,
        password: str | None,
        ssl: bool,
        run_services: bool,
        faketime: str | None,
    ) -> None:
        assert self.proc is None
        if ssl:
            raise NotImplementedError("TLS listener (charla uses --irc-tls, untested here)")
        self.create_config()
        assert self.directory is not None
        self.port = port
        self.hostname = hostname
        # Reserved like the IRC port, so that parallel tests never pick the same one.
        _, self.native_port = self.get_hostname_and_port()
        command = [
            *charla_command(),
            "serve",
            "--host", "127.0.0.1",
            "--port", str(self.native_port),
            "--irc", f"{hostname}:{port}",
            "--name", SERVER_NAME,
            "--db", str(self.directory / "charla.db"),
            # irctest's bursts and its many local clients are not a flood to defend against.
            "--rate-limit", "0",
            "--max-per-ip", "0",
            "--max-auth-failures", "1000",
            "--max-auth-failures-per-nick", "1000",
            "--max-auth-failures-per-address", "1000",
        ]  # fmt: skip
        if password is not None:
            password_file = self.directory / "server-password"
            password_file.write_text(password + "\n")
            command += ["--server-password-file", str(password_file)]
        self.proc = self.execute(command)

    def wait_for_services(self) -> None:
        """Accounts are charla's own (no services to wait for), as in ergo."""

    def registerUser(
        self, case: BaseServerTestCase[Any], username: str, password: str | None = None
    ) -> None:
        """A charla user registers a nick by saying ``register`` with its password."""
        assert password is not None
        if len(password) < MIN_PASSWORD:
            # A policy of charla's, not a protocol matter: the test is skipped, saying so.
            raise NotImplementedByController(
                f"accounts with passwords under {MIN_PASSWORD} characters"
            )
        self.wait_for_port()
        with socket.create_connection(("127.0.0.1", self.native_port), REGISTER_TIMEOUT) as s:
            lines = s.makefile("rwb")
            hello: dict[str, Any] = {"type": "hello", "nick": username, "join_default": False}
            server_password = getattr(case, "password", None)
            if server_password is not None:
                hello["server_password"] = server_password
            for frame in (hello, {"type": "register", "password": password}):
                lines.write(json.dumps(frame).encode() + b"\n")
            lines.flush()
            for line in lines:
                frame = json.loads(line)
                if frame.get("type") == "error":
                    raise RuntimeError(f"registering {username}: {frame}")
                if frame.get("type") == "system" and frame.get("event") == "registered":
                    return
        raise RuntimeError(f"registering {username}: the server closed the connection")


def get_irctest_controller_class() -> type[CharlaController]:
    return CharlaController
