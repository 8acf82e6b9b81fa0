"""A nats-server that asks for credentials and TLS, set up as docs/cluster.md says:
one user per node, allowed only charla's subjects and the JetStream API of its stream and
buckets; a neighbour user with subjects of its own; certificates from a test CA."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import trustme

from .conftest import NatsServer

PASSWORDS = {"n1": "n1-s3cret-pw", "n2": "n2-s3cret-pw", "other": "other-s3cret-pw"}


def node_permissions(ns: str) -> str:
    """The permissions of a charla node of cluster ``ns`` (as in docs/cluster.md)."""
    stream = f"{ns.upper()}_LOG"
    buckets = [f"KV_{ns}_nicks", f"KV_{ns}_accounts"]
    publish = [
        f"{ns}.>",
        "$JS.API.INFO",
        f"$JS.API.STREAM.*.{stream}",
        f"$JS.API.CONSUMER.*.{stream}",
        f"$JS.API.CONSUMER.*.{stream}.>",
        f"$JS.FC.{stream}.>",
        f"$KV.{ns}_nicks.>",
        f"$KV.{ns}_accounts.>",
    ]
    for bucket in buckets:
        publish += [
            f"$JS.API.STREAM.*.{bucket}",
            f"$JS.API.STREAM.MSG.GET.{bucket}",
            f"$JS.API.DIRECT.GET.{bucket}.>",
            f"$JS.API.CONSUMER.*.{bucket}",
            f"$JS.API.CONSUMER.*.{bucket}.>",
        ]
    subscribe = [f"{ns}.heartbeat", f"{ns}.relay", f"_INBOX_{ns}.>"]
    return f"{{ publish: {_list(publish)}, subscribe: {_list(subscribe)} }}"


def _list(subjects: list[str]) -> str:
    return "[" + ", ".join(f'"{s}"' for s in subjects) + "]"


def server_config(ns: str, certs: Path) -> str:
    users = [
        f'{{ user: "{user}", password: "{password}", permissions: $CHARLA_NODE }}'
        for user, password in PASSWORDS.items()
        if user != "other"
    ]
    users.append(
        f'{{ user: "other", password: "{PASSWORDS["other"]}", '
        'permissions: { publish: ["other.>"], subscribe: ["other.>", "_INBOX.>"] } }'
    )
    return f"""
listen: "127.0.0.1:{{port}}"
jetstream {{ store_dir: "{{store}}" }}
tls {{
  cert_file: "{certs / "server.pem"}"
  key_file: "{certs / "server.key"}"
  ca_file: "{certs / "ca.pem"}"
  verify: true
}}
CHARLA_NODE = {node_permissions(ns)}
authorization {{
  users: [
    {(chr(10) + "    ").join(users)}
  ]
}}
"""


@dataclasses.dataclass
class Secure:
    """The server and the files a node passes to ``--nats-creds`` and ``--nats-tls-*``."""

    nats: NatsServer
    dir: Path

    def creds(self, user: str, password: str | None = None) -> Path:
        path = self.dir / f"{user}.creds"
        path.write_text(f"# {user}\nuser={user}\npassword={password or PASSWORDS[user]}\n")
        return path

    def tls(self) -> dict[str, Path]:
        return {
            "nats_tls_ca": self.dir / "ca.pem",
            "nats_tls_cert": self.dir / "node.pem",
            "nats_tls_key": self.dir / "node.key",
        }

    def tls_flags(self) -> list[str]:
        return [
            arg
            for field, path in self.tls().items()
            for arg in (f"--{field.replace('_', '-')}", str(path))
        ]


def start_secure(binary: str, ns: str, directory: Path) -> Secure:
    ca = trustme.CA()
    ca.cert_pem.write_to_path(directory / "ca.pem")
    server = ca.issue_cert("127.0.0.1", "localhost")
    server.private_key_pem.write_to_path(directory / "server.key")
    server.cert_chain_pems[0].write_to_path(directory / "server.pem")
    node = ca.issue_cert("charla-node")
    node.private_key_pem.write_to_path(directory / "node.key")
    node.cert_chain_pems[0].write_to_path(directory / "node.pem")
    config = directory / "nats.conf.in"
    config.write_text(server_config(ns, directory))
    store = directory / "store"
    store.mkdir()
    nats = NatsServer(binary, store, config)
    nats.start()
    return Secure(nats, directory)
