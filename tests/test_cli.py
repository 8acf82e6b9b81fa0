"""The ``charla`` command itself."""

from __future__ import annotations

import subprocess

import pytest

from charla import __version__

from .helpers import charla_cmd, subprocess_env


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        charla_cmd(*args), capture_output=True, text=True, env=subprocess_env(), timeout=30
    )


def test_version() -> None:
    result = _run("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"charla {__version__}"


@pytest.mark.parametrize("command", [[], ["serve"], ["join"], ["send"], ["tail"], ["users"]])
def test_help(command: list[str]) -> None:
    result = _run(*command, "--help")
    assert result.returncode == 0 and "usage: charla" in result.stdout


def test_serve_defaults_are_the_seeds() -> None:
    text = _run("serve", "--help").stdout
    assert "127.0.0.1" in text and "12345" in text and "--history" in text


def test_bad_flags_are_a_usage_error_not_a_traceback() -> None:
    result = _run("serve", "--port", "not-a-number")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    result = _run("serve", "--tls-cert", "only-one.pem")
    assert result.returncode == 2 and "go together" in result.stderr


def test_stats_without_a_server_fails_clearly() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = _run("stats", "--metrics-port", str(port))
    assert result.returncode == 1 and "cannot read" in result.stderr


def test_unreadable_files_are_reported_not_raised(tmp_path) -> None:
    result = _run("serve", "--password-file", str(tmp_path / "missing"))
    assert result.returncode == 1 and "cannot read" in result.stderr
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    result = _run(
        "serve",
        "--port",
        "0",
        "--db",
        str(tmp_path / "x.db"),
        "--tls-cert",
        str(bad),
        "--tls-key",
        str(bad),
    )
    assert result.returncode == 1 and "TLS certificate" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_port_in_use_is_reported(tmp_path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _run("serve", "--port", str(port), "--db", str(tmp_path / "x.db"))
    assert result.returncode == 1 and "cannot listen" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "flag",
    [
        ["--retain-messages", "0"],  # "0 = off" elsewhere: here it deleted every message
        ["--retain-messages", "-1"],
        ["--retain-days", "0"],
        ["--retain-days", "-2"],
        ["--history", "-5"],  # SQLite's LIMIT -5 is no limit: the whole room on every join
        ["--max-line", "10"],  # no hello fits
    ],
)
def test_flags_that_would_lose_history_or_lock_everyone_out_are_refused(
    tmp_path, flag: list[str]
) -> None:
    result = subprocess.run(
        charla_cmd("serve", "--port", "0", "--db", str(tmp_path / "c.db"), *flag),
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=10,
    )
    assert result.returncode == 2 and flag[0] in result.stderr


@pytest.mark.parametrize(
    ("login", "nick"), [("root", "root_"), ("admin", "admin_"), ("ana", "ana")]
)
def test_default_nick_steps_around_reserved_login_names(monkeypatch, login, nick) -> None:
    from charla import cli

    monkeypatch.delenv("CHARLA_NICK", raising=False)
    monkeypatch.setattr(cli.getpass, "getuser", lambda: login)
    assert cli.default_nick() == nick
