"""Settings declared once: flags, the config file and reload all come from ServerConfig."""

from __future__ import annotations

import argparse
import dataclasses
import re
import tomllib
from pathlib import Path

import pytest

from charla.cli import build_parser
from charla.server.config import (
    ServerConfig,
    diff_reloadable,
    load_config,
    print_config,
    reloaded,
)
from charla.settings import (
    SettingError,
    UnreadableFile,
    add_flags,
    at_least,
    flag_values,
    flatten,
    setting,
)
from charla.store import Retention


def _serve_flags(*argv: str) -> dict[str, object]:
    return flag_values(build_parser().parse_args(["serve", *argv]))


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "charla.toml"
    path.write_text(text)
    return path


def test_every_field_has_a_flag_of_its_name() -> None:
    help_text = build_parser()._subparsers._group_actions[0].choices["serve"].format_help()  # type: ignore[union-attr]
    for flat in flatten(ServerConfig):
        assert flat.flag in help_text
    assert "--retain-days" in help_text and "--retain-messages" in help_text


def test_flags_keep_their_old_names_and_read_units(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    config = load_config(
        None,
        _serve_flags(
            "--max-sendq", "64k", "--handshake-timeout", "500ms", "--retain-messages", "7",
            "--password-file", str(secret), "--fsync", "full",
        ),
    )  # fmt: skip
    assert config.max_sendq == 65536 and config.handshake_timeout == 0.5
    assert config.retention == Retention(messages=7)
    assert config.server_password == "s3cret" and config.fsync == "full"


def test_a_field_added_later_gets_a_flag_and_a_check_without_other_edits() -> None:
    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Later:
        auth_pool: int = setting(4, help="threads hashing passwords", check=at_least(1))
        verbose_joins: bool = setting(False, help="log every join")

    parser = argparse.ArgumentParser()
    add_flags(parser, Later)
    args = parser.parse_args(["--auth-pool", "8", "--verbose-joins"])
    assert flag_values(args) == {"auth_pool": "8", "verbose_joins": True}
    with pytest.raises(SystemExit):
        parser.parse_args(["--auth-pool", "0"])


def test_the_printed_config_parses_back_into_the_defaults(tmp_path: Path) -> None:
    text = print_config()
    assert load_config(_file(tmp_path, text), {}) == ServerConfig()
    # Every key is in it, the ones that are off by default commented out with an example.
    for flat in flatten(ServerConfig):
        line = f"{flat.key} = " if flat.default is not None else f"# {flat.key} = "
        assert line in text, flat.key
        if flat.default is None:
            assert flat.spec.example is not None, flat.key


def test_examples_of_settings_that_are_off_are_valid_values(tmp_path: Path) -> None:
    # Uncommenting an example must give a server that starts, not a refusal.
    secret = tmp_path / "pw"
    secret.write_text("x")
    text = re.sub(r"(?m)^# (\w+ = )", r"\1", print_config())
    text = text.replace('"/etc/charla/server-password"', f'"{secret}"')
    text = text.replace('"/etc/charla/', f'"{tmp_path}/')  # exist or not: checked at start
    config = load_config(_file(tmp_path, text), {})
    assert config.motd and config.nats and config.retention.days == 30


def test_flags_override_the_file(tmp_path: Path) -> None:
    path = _file(tmp_path, 'motd = "from the file"\nburst = 3\nmax_sendq = "1m"\n')
    config = load_config(path, _serve_flags("--burst", "9"))
    assert (config.motd, config.burst, config.max_sendq) == ("from the file", 9, 1024 * 1024)


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ("max-sendq = 5", "max-sendq", "did you mean max_sendq?"),
        ("operator = ['profe']", "operator", "did you mean operators?"),
        ('operators = "profe"', "operators", "expected a list of strings, got a string"),
        ("operators = ['profe', 3]", "operators", "expected a list of strings"),
        ("operators = ['a b']", "operators", "not a valid nick"),
        ("[limits]\nburst = 3", "limits", "unknown setting"),
        ('burst = "20"', "burst", "expected a number, got a string"),
        ("burst = true", "burst", "expected a number, got true/false"),
        ("burst = 2.5", "burst", "whole number"),
        ("retain_messages = 0", "retain_messages", "must be 1 or more"),
        ("retain_days = nan", "retain_days", "finite"),
        ("retain_days = 0", "retain_days", "must be more than 0"),
        ("rate_limit = inf", "rate_limit", "finite"),
        ('fsync = "sometimes"', "fsync", "must be one of normal, full"),
        ('cluster_name = "a.b"', "cluster_name", "letters, digits"),
        ('max_sendq = "lots"', "max_sendq", "256k"),
        ('tls_cert = "c.pem"', "tls_key", "go together"),
    ],
)
def test_a_bad_file_is_refused_naming_the_key(
    tmp_path: Path, text: str, key: str, reason: str
) -> None:
    with pytest.raises(SettingError) as caught:
        load_config(_file(tmp_path, text), {})
    assert caught.value.key.endswith(key) and reason in caught.value.reason


def test_operators_come_from_the_file_or_a_flag_and_reload(tmp_path: Path) -> None:
    path = _file(tmp_path, 'operators = ["profe", "ana"]\n')
    assert load_config(path, {}).operators == ("profe", "ana")
    assert load_config(path, _serve_flags("--operators", "luis, eva")).operators == ("luis", "eva")
    old = ServerConfig()
    new = dataclasses.replace(old, operators=("profe",))
    assert diff_reloadable(old, new) == ({"operators": ((), ("profe",))}, [])
    # The printed file with operators set parses back into the same settings.
    text = print_config().replace("operators = []", 'operators = ["profe", "ana"]')
    assert load_config(_file(tmp_path, text), {}) == ServerConfig(operators=("profe", "ana"))


def test_a_missing_secret_or_config_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="cannot read"):
        load_config(tmp_path / "absent.toml", {})
    with pytest.raises(UnreadableFile, match="server_password_file"):
        load_config(_file(tmp_path, f'server_password_file = "{tmp_path / "no"}"'), {})
    with pytest.raises(SettingError, match="not valid TOML"):
        load_config(_file(tmp_path, "motd = "), {})


def test_reload_takes_the_limits_and_keeps_what_needs_a_restart() -> None:
    old = ServerConfig(db=Path("a.db"))
    new = dataclasses.replace(
        old, motd="hola", burst=3, port=1, db=Path("b.db"), retention=Retention(days=2)
    )
    changes, needs_restart = diff_reloadable(old, new)
    assert changes == {"motd": (None, "hola"), "burst": (20, 3), "retain_days": (None, 2)}
    assert needs_restart == ["port", "db"]
    running = reloaded(old, new)
    assert (running.motd, running.burst, running.retention.days) == ("hola", 3, 2)
    assert (running.port, running.db) == (old.port, old.db)


def test_a_cluster_keeps_its_retention_until_restart() -> None:
    old = ServerConfig(nats="nats://127.0.0.1:4222")
    changes, needs_restart = diff_reloadable(
        old, dataclasses.replace(old, retention=Retention(messages=5))
    )
    assert changes == {} and needs_restart == ["retain_messages"]


def test_the_printed_file_is_valid_toml_with_comments_for_every_setting() -> None:
    text = print_config()
    assert tomllib.loads(text)["max_sendq"] == 262144
    assert "SIGHUP reloads it" in text and "Needs a restart" in text
    assert "Defends against: a reader that never reads" in text


def test_the_printed_file_has_each_section_once() -> None:
    headers = [line for line in print_config().splitlines() if line.startswith("# ========")]
    assert len(headers) == len(set(headers)), headers


def test_a_default_path_is_never_split_inside_a_word(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", "/srv/class-room-data")
    comments = " ".join(
        line.removeprefix("# ") for line in print_config().splitlines() if line.startswith("#")
    )
    assert "Default: /srv/class-room-data/charla/charla.db." in comments
