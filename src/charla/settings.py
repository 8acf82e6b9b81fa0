"""Settings declared once, on a dataclass field, and read from flags or a TOML file.

A field made with :func:`setting` carries its help text, what it defends against, the
check its value must pass and whether SIGHUP may change it. Everything else is derived
from the field: the flag (``max_sendq`` is ``--max-sendq``), its type conversion, the
TOML key (``max_sendq``), the commented default file of ``--print-config``. A field added
to the dataclass gets all of these with no other edit.

Nested dataclasses (``Retention``) are flattened with a prefix: ``retention.days`` is
``retain_days``. A secret (``server_password``) is never a value on the command line or
in the file: its key names a file that holds it (``server_password_file``).

This module knows nothing of charla: it imports no other charla module, so any module
(``store.py`` included) may declare settings with it.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import math
import re
import textwrap
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar, overload

__all__ = [
    "Check",
    "Flat",
    "SettingError",
    "UnreadableFile",
    "add_flags",
    "apply",
    "at_least",
    "between",
    "changed",
    "flag_values",
    "flatten",
    "from_values",
    "matches",
    "more_than",
    "read_toml",
    "render_toml",
    "setting",
]

T = TypeVar("T")

#: A check returns why a value is refused, or None when it is fine.
Check = Callable[[Any], str | None]
Unit = Literal["bytes", "seconds"]

_KEY = "charla.setting"


class SettingError(Exception):
    """A value that cannot be used: ``key`` names it (as in the file), ``reason`` says why."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


class UnreadableFile(SettingError):
    """A file a setting names (a secret, the config file) cannot be read, or is empty."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Spec:
    """What a field says about itself (kept in the field's metadata)."""

    help: str
    #: What the setting defends against, for the printed config and docs.
    defends: str = ""
    check: Check | None = None
    unit: Unit | None = None
    #: SIGHUP may change it on a running server.
    reload: bool = False
    #: Heading it is listed under in ``--help`` and the printed config.
    section: str = "general"
    #: Older flag names that keep working.
    aliases: tuple[str, ...] = ()
    metavar: str | None = None
    #: For a setting that is off by default: a value to show, commented out.
    example: object = None
    #: The value is a secret read from the file that ``<name>_file`` names.
    secret_file: bool = False
    #: A nested dataclass: its fields become ``<prefix>_<field>``.
    prefix: str | None = None


@overload
def setting(default: T, **spec: Any) -> T: ...
@overload
def setting(*, factory: Callable[[], T], **spec: Any) -> T: ...
def setting(default: Any = dataclasses.MISSING, *, factory: Any = None, **spec: Any) -> Any:
    """A dataclass field with its :class:`Spec` (``help=`` is required)."""
    metadata = {_KEY: Spec(**spec)}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


# --- checks ---------------------------------------------------------------------------
# Written as "not (value ok)" so that NaN, which compares false to everything, is refused.


def at_least(minimum: float) -> Check:
    return lambda value: None if value >= minimum else f"must be {minimum:g} or more"


def more_than(minimum: float) -> Check:
    return lambda value: None if value > minimum else f"must be more than {minimum:g}"


def between(low: int, high: int) -> Check:
    return lambda value: None if low <= value <= high else f"must be {low} to {high}"


def matches(pattern: str, description: str) -> Check:
    compiled = re.compile(pattern)
    return lambda value: None if compiled.fullmatch(value) else f"must be {description}"


# --- the flat view of a settings dataclass ---------------------------------------------


@dataclass(frozen=True, slots=True)
class Flat:
    """One setting as the user sees it: a flag, a key, a value of one type."""

    name: str
    #: Field names from the top dataclass down to this value.
    path: tuple[str, ...]
    type: Any
    spec: Spec
    default: Any

    @property
    def key(self) -> str:
        """The TOML key: the name, or ``<name>_file`` for a secret."""
        return f"{self.name}_file" if self.spec.secret_file else self.name

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")

    @property
    def optional(self) -> bool:
        return _is_optional(self.type)


def _is_optional(tp: Any) -> bool:
    return _is_union(tp) and type(None) in typing.get_args(tp)


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _base(tp: Any) -> Any:
    """``int | None`` → ``int``."""
    if _is_union(tp):
        (inner,) = [a for a in typing.get_args(tp) if a is not type(None)]
        return inner
    return tp


def flatten(cls: type[Any], *, prefix: str = "", path: tuple[str, ...] = ()) -> list[Flat]:
    """Every setting of ``cls`` in declaration order, nested dataclasses flattened."""
    hints = typing.get_type_hints(cls)
    default = cls()
    out: list[Flat] = []
    for f in dataclasses.fields(cls):
        spec = f.metadata.get(_KEY)
        if not isinstance(spec, Spec):
            raise TypeError(f"{cls.__name__}.{f.name} is not declared with setting()")
        name = f"{prefix}{f.name}"
        if spec.prefix is not None:
            for inner in flatten(hints[f.name], prefix=f"{spec.prefix}_", path=(*path, f.name)):
                # The nested fields are listed, and reloaded, with their parent.
                inherited = dataclasses.replace(
                    inner.spec, section=spec.section, reload=spec.reload or inner.spec.reload
                )
                out.append(dataclasses.replace(inner, spec=inherited))
            continue
        out.append(Flat(name, (*path, f.name), hints[f.name], spec, getattr(default, f.name)))
    return out


# --- reading values --------------------------------------------------------------------

_BYTES = {"": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024**2, "mb": 1024**2}
_BYTES["mib"] = 1024**2
_SECONDS = {"": 1.0, "s": 1.0, "ms": 0.001, "m": 60.0, "min": 60.0, "h": 3600.0}
_NUMBER_UNIT = re.compile(r"\s*([0-9][0-9_]*(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*")


def _with_unit(text: str, units: Mapping[str, float], kind: str) -> float:
    match = _NUMBER_UNIT.fullmatch(text)
    if match is None or match[2].lower() not in units:
        raise ValueError(f"expected a number of {kind} like {_UNIT_EXAMPLE[kind]}, got {text!r}")
    return float(match[1]) * units[match[2].lower()]


_UNIT_EXAMPLE = {"bytes": "262144, 256k or 1m", "seconds": "10, 10s, 500ms or 2m"}


def _convert(flat: Flat, raw: object, *, from_flag: bool) -> Any:
    """``raw`` as the field's type, or ValueError. A flag is always text; a TOML value
    must have the right type already, except that numbers with units are strings
    (``max_sendq = "256k"``)."""
    tp = _base(flat.type)
    if typing.get_origin(tp) is tuple:
        return _names(raw, from_flag=from_flag)
    if typing.get_origin(tp) is Literal:
        choices = typing.get_args(tp)
        if raw not in choices:
            raise ValueError(f"must be one of {', '.join(map(str, choices))}")
        return raw
    if tp in (str, Path):
        if not isinstance(raw, str):
            raise ValueError(f"expected a string, got {_kind(raw)}")
        return tp(raw)
    if tp is bool:
        if not isinstance(raw, bool):
            raise ValueError(f"expected true or false, got {_kind(raw)}")
        return raw
    if tp not in (int, float):
        raise TypeError(f"{flat.name}: settings of type {tp!r} are not supported")
    if isinstance(raw, str) and (from_flag or flat.spec.unit is not None):
        value = _number_from_text(flat, raw)
    elif isinstance(raw, int | float) and not isinstance(raw, bool):
        value = raw
    else:
        raise ValueError(f"expected a number, got {_kind(raw)}")
    if tp is int:
        if not float(value).is_integer():
            raise ValueError(f"expected a whole number, got {raw!r}")
        return int(value)
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return float(value)


def _names(raw: object, *, from_flag: bool) -> tuple[str, ...]:
    """A list of names (``tuple[str, ...]``): a TOML list of strings, or a flag's
    comma-separated text."""
    if from_flag and isinstance(raw, str):
        return tuple(name.strip() for name in raw.split(",") if name.strip())
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise ValueError(f"expected a list of strings, got {_kind(raw)}")
    return tuple(raw)


def _number_from_text(flat: Flat, text: str) -> float:
    if flat.spec.unit is not None:
        units = _BYTES if flat.spec.unit == "bytes" else _SECONDS
        return _with_unit(text, units, flat.spec.unit)
    try:
        return int(text) if _base(flat.type) is int else float(text)
    except ValueError:
        raise ValueError(f"expected a number, got {text!r}") from None


def _kind(value: object) -> str:
    names = {bool: "true/false", int: "a number", float: "a number", str: "a string"}
    names |= {list: "a list", dict: "a table"}
    return names.get(type(value), type(value).__name__)


def _parse(flat: Flat, raw: object, *, from_flag: bool = False) -> Any:
    """Convert and check; a secret's raw value is the path of the file holding it."""
    if flat.spec.secret_file:
        path = _convert(dataclasses.replace(flat, type=Path), raw, from_flag=from_flag)
        return _read_secret(flat, path)
    value = _convert(flat, raw, from_flag=from_flag)
    problem = flat.spec.check(value) if flat.spec.check is not None else None
    if problem is not None:
        raise ValueError(problem)
    return value


def _read_secret(flat: Flat, path: Path) -> str:
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableFile(flat.key, f"cannot read {path}: {exc}") from None
    if not secret:
        raise UnreadableFile(flat.key, f"{path} is empty")
    return secret


def from_values(
    cls: type[Any], values: Mapping[str, object], *, source: str = "", from_flag: bool = False
) -> dict[str, Any]:
    """``values`` (key → raw value: a TOML file's, or the flags' texts) checked and
    converted; secrets are read from their files.

    An unknown key, a wrong type or a value its check refuses raises :class:`SettingError`
    naming the key (after ``source``, e.g. the file's name); nothing is ever ignored.
    """
    by_key = {flat.key: flat for flat in flatten(cls)}
    parsed: dict[str, Any] = {}
    for key, raw in values.items():
        flat = by_key.get(key)
        if flat is None:
            raise SettingError(source + key, _unknown(key, by_key))
        try:
            parsed[key] = _parse(flat, raw, from_flag=from_flag)
        except ValueError as exc:
            raise SettingError(source + key, str(exc)) from None
    return parsed


def apply(base: T, parsed: Mapping[str, Any]) -> T:
    """``base`` with the values of :func:`from_values` or :func:`flag_values` put in."""
    by_key = {flat.key: flat for flat in flatten(type(base))}
    result: Any = base
    for key, value in parsed.items():
        result = _replace_at(result, by_key[key].path, value)
    return typing.cast(T, result)


def read_toml(path: Path) -> dict[str, object]:
    """A TOML file's top-level table; a file that cannot be read or parsed is refused."""
    import tomllib

    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except OSError as exc:
        raise UnreadableFile(str(path), f"cannot read it: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingError(str(path), f"not valid TOML: {exc}") from None


def _unknown(key: str, known: Iterable[str]) -> str:
    near = difflib.get_close_matches(key.replace("-", "_"), list(known), n=1)
    return "unknown setting" + (f" (did you mean {near[0]}?)" if near else "")


def _replace_at(obj: Any, path: tuple[str, ...], value: Any) -> Any:
    head, *rest = path
    inner = _replace_at(getattr(obj, head), tuple(rest), value) if rest else value
    return dataclasses.replace(obj, **{head: inner})


def changed(old: Any, new: Any) -> list[tuple[Flat, Any, Any]]:
    """The settings whose values differ between two instances of one dataclass."""
    out = []
    for flat in flatten(type(old)):
        before, after = _get_at(old, flat.path), _get_at(new, flat.path)
        if before != after:
            out.append((flat, before, after))
    return out


def _get_at(obj: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        obj = getattr(obj, name)
    return obj


# --- flags -----------------------------------------------------------------------------


def add_flags(parser: argparse.ArgumentParser, cls: type[Any]) -> None:
    """One flag per setting, grouped by section. Their values are the raw texts (the
    default is SUPPRESS, so the namespace holds only what the command line gave). A bad
    value is a usage error at once; the texts are kept as given, for
    :func:`from_values` (``from_flag=True``) via :func:`flag_values`. A secret's file is
    read there, not while parsing flags."""
    groups: dict[str, argparse._ArgumentGroup] = {}
    for flat in flatten(cls):
        section = flat.spec.section
        if section not in groups:
            groups[section] = parser.add_argument_group(section)
        _add_flag(groups[section], flat)


def _add_flag(group: argparse._ArgumentGroup, flat: Flat) -> None:
    names = [flat.flag, *flat.spec.aliases]
    common: dict[str, Any] = {"dest": _dest(flat), "default": argparse.SUPPRESS}
    help_text = f"{flat.spec.help} (default: {_shown(flat)})".replace("%", "%%")
    if _base(flat.type) is bool:
        group.add_argument(*names, action=argparse.BooleanOptionalAction, help=help_text, **common)
        return

    def check(text: str) -> str:
        try:
            if flat.spec.secret_file:
                _convert(dataclasses.replace(flat, type=Path), text, from_flag=True)
            else:
                _parse(flat, text, from_flag=True)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return text

    group.add_argument(*names, type=check, metavar=_metavar(flat), help=help_text, **common)


def _dest(flat: Flat) -> str:
    return f"setting:{flat.key}"


def flag_values(namespace: argparse.Namespace) -> dict[str, object]:
    """The settings the command line gave, by key, as texts."""
    return {
        dest.removeprefix("setting:"): value
        for dest, value in vars(namespace).items()
        if dest.startswith("setting:")
    }


def _metavar(flat: Flat) -> str:
    if flat.spec.metavar is not None:
        return flat.spec.metavar
    tp = _base(flat.type)
    if flat.spec.secret_file or tp is Path:
        return "FILE"
    if typing.get_origin(tp) is Literal:
        return "{" + ",".join(map(str, typing.get_args(tp))) + "}"
    if typing.get_origin(tp) is tuple:
        return "NAMES"
    return {"bytes": "BYTES", "seconds": "SECONDS"}.get(
        flat.spec.unit or "", "N" if tp in (int, float) else "TEXT"
    )


def _shown(flat: Flat) -> str:
    if flat.default is None:
        return "off"
    if isinstance(flat.default, tuple):
        return ", ".join(flat.default) or "none"
    if flat.spec.unit == "bytes" and flat.default >= 1024 and flat.default % 1024 == 0:
        return f"{flat.default} ({flat.default // 1024} KiB)"
    return f"{flat.default:g}" if isinstance(flat.default, float) else str(flat.default)


# --- the commented default file --------------------------------------------------------


def render_toml(cls: type[Any], header: str) -> str:
    """A TOML file with every setting of ``cls`` at its default, each explained.

    Settings that are off by default (None) appear commented out, with an example value:
    TOML has no null, and uncommenting the line is how one switches them on.
    """
    lines = [_comment(header), ""]
    section = None
    for flat in flatten(cls):
        if flat.spec.section != section:
            section = flat.spec.section
            lines += ["", f"# {'=' * 8} {section} {'=' * (76 - len(section))}", ""]
        lines += _describe(flat)
    return "\n".join(lines).rstrip() + "\n"


def _describe(flat: Flat) -> list[str]:
    spec = flat.spec
    text = spec.help[0].upper() + spec.help[1:] + "."
    if spec.defends:
        text += f" Defends against: {spec.defends}."
    when = "SIGHUP reloads it." if spec.reload else "Needs a restart."
    text += f" Default: {_shown(flat)}. {when}"
    out = [_comment(text)]
    if flat.default is None:
        example = spec.example if spec.example is not None else ""
        out.append(f"# {flat.key} = {_toml_value(example)}")
    else:
        out.append(f"{flat.key} = {_toml_value(flat.default)}")
    return [*out, ""]


def _comment(text: str) -> str:
    """``text`` as comment lines; blank lines separate paragraphs."""
    return "\n#\n".join(
        # Paths and URLs stay whole: a line break after a hyphen would change them.
        textwrap.fill(
            paragraph,
            88,
            initial_indent="# ",
            subsequent_indent="# ",
            break_on_hyphens=False,
            break_long_words=False,
        )
        for paragraph in text.split("\n\n")
    )


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(map(_toml_value, value)) + "]"
    return _toml_string(str(value))


def _toml_string(text: str) -> str:
    escaped = "".join(
        f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7F or c in '"\\' else c for c in text
    )
    return f'"{escaped}"'
