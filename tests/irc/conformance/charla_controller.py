"""irctest's controller for charla: how the IRC conformance suite starts a charla server.

irctest (the suite IRC servers are measured with) is not part of charla; ``run.sh`` runs
a checkout of it with this module as ``--controller charla_controller``. Like irctest's
own controllers for ergo or ngircd, it starts the server on the ports the test picked,
with the server password the test asks for, and sets up the accounts SASL tests log in
with (registered as a charla user registers, their password written by the harness).

The limits are raised as for the other servers irctest runs (it connects dozens of
clients from 127.0.0.1 and sends bursts no person would): nothing else is configured,
so what the suite sees is charla as it ships.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any, ClassVar

from irctest.basecontrollers import BaseServerController, DirectoryBasedController
from irctest.cases import BaseServerTestCase

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
#: Seconds an account's seeding may take.
REGISTER_TIMEOUT = 30.0
#: Run by charla's Python: sets the password (on stdin) of account ``argv[2]`` in the
#: database ``argv[1]``.
SEED_PASSWORD = """
import sys
from argon2 import PasswordHasher
from charla.protocol import nick_key
from charla.store import Store
db, nick = sys.argv[1:]
store = Store(db)
try:
    store.set_account(nick_key(nick), nick, PasswordHasher().hash(sys.stdin.read()))
finally:
    store.close()
"""


def charla_python() -> str:
    """The Python charla is installed in: next to the charla executable (a venv's bin)."""
    return str(Path(charla_command()[0]).parent / "python")


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
    #: charla sends a message on once it is stored: a moment after the client's own
    #: PING is answered, so the tests' "read what came" waits that moment first.
    sync_sleep_time = 0.05
    #: ISUPPORT values the tests check (``isupport.testValues``).
    isupport: ClassVar[dict[str, str]] = {
        "CASEMAPPING": "rfc8265",
        "CHANTYPES": "#",
        "PREFIX": "(qov)~@+",
    }

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
            # Loopback whatever irctest names (0.0.0.0): its clients reach it there too.
            "--irc", f"127.0.0.1:{port}",
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
        """The nick is registered as a charla user registers it (``register``), with a
        placeholder password; then the harness writes the test's password into the
        account with charla's account storage (an argon2 hash, as ``register`` stores
        it), as irctest's controllers write their servers' databases. So the tests'
        password ``sesame`` is taken although charla asks a user for 8 characters, and
        the running server (which reads an account's hash at each login) need not
        restart."""
        assert password is not None and self.directory is not None
        self._register_natively(case, username, secrets.token_urlsafe(16))
        subprocess.run(
            [charla_python(), "-c", SEED_PASSWORD, str(self.directory / "charla.db"), username],
            input=password.encode(),
            check=True,
            timeout=REGISTER_TIMEOUT,
        )

    def _register_natively(
        self, case: BaseServerTestCase[Any], username: str, password: str
    ) -> None:
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
