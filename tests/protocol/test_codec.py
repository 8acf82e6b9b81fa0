"""The sans-I/O protocol: no sockets here, just bytes and frames."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from charla.protocol import (
    Code,
    Hello,
    LineSplitter,
    Message,
    ProtocolError,
    Say,
    decode_client_frame,
    decode_server_frame,
    encode,
)


def test_splitter_returns_complete_lines_only() -> None:
    splitter = LineSplitter(100)
    assert splitter.feed(b'{"a":1}\n{"b"') == [b'{"a":1}']
    assert splitter.feed(b":2}\r\n\n") == [b'{"b":2}']
    assert splitter.buffered == 0


def test_splitter_refuses_a_long_line_before_it_ends() -> None:
    splitter = LineSplitter(10)
    with pytest.raises(ProtocolError) as exc:
        splitter.feed(b"x" * 11)
    assert exc.value.code is Code.LINE_TOO_LONG and exc.value.fatal
    assert splitter.buffered == 0


def test_splitter_refuses_a_long_complete_line() -> None:
    with pytest.raises(ProtocolError):
        LineSplitter(10).feed(b"x" * 11 + b"\n")


@given(
    st.lists(st.binary(max_size=50).map(lambda b: b.replace(b"\n", b"")), max_size=20),
    st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=10),
)
def test_splitter_is_independent_of_how_bytes_arrive(lines: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(line + b"\n" for line in lines)
    splitter = LineSplitter(1000)
    got: list[bytes] = []
    position = 0
    for cut in cuts * (len(stream) // max(1, sum(cuts)) + 1):
        got += splitter.feed(stream[position : position + cut])
        position += cut
    got += splitter.feed(stream[position:])
    expected = [line.removesuffix(b"\r") for line in lines]
    assert got == [line for line in expected if line]


def test_encode_is_one_line_and_omits_unset_fields() -> None:
    data = encode(Message(id=1, user="ana", text="a\nb", ts="t", room="general"))
    assert data.endswith(b"\n") and data.count(b"\n") == 1
    assert b'"to"' not in data and b'"action"' not in data


def test_round_trip_server_frames() -> None:
    message = Message(id=3, user="ana", text="hola", ts="t", to="bob", action=True)
    assert decode_server_frame(encode(message)[:-1]) == message


def test_unknown_server_frame_type_is_reported_as_such() -> None:
    with pytest.raises(ProtocolError) as exc:
        decode_server_frame(b'{"type":"future_thing","x":1}')
    assert exc.value.code is Code.UNKNOWN_TYPE


@settings(max_examples=500)
@given(st.binary(max_size=300))
def test_decoder_never_raises_anything_but_protocol_error(data: bytes) -> None:
    try:
        frame = decode_client_frame(data)
    except ProtocolError as exc:
        assert exc.code in Code.__members__.values()
    else:
        assert isinstance(frame, msgspec.Struct)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=500)
@given(
    st.sampled_from(["hello", "say", "history", "ping", "pong", "nope", 3, None]),
    st.dictionaries(
        st.sampled_from(["nick", "text", "room", "rooms", "since", "before", "limit", "token"]),
        json_values,
        max_size=5,
    ),
)
def test_random_frames_decode_or_fail_cleanly(kind: object, fields: dict[str, object]) -> None:
    line = msgspec.json.encode({"type": kind, **fields})
    try:
        frame = decode_client_frame(line)
    except ProtocolError as exc:
        assert exc.code in (Code.BAD_FRAME, Code.UNKNOWN_TYPE)
    else:
        assert isinstance(frame, (Hello, Say)) or frame is not None


@given(st.binary(max_size=300), st.lists(st.integers(min_value=0, max_value=300), max_size=20))
def test_splitting_anywhere_gives_the_lines_of_the_whole(stream: bytes, cuts: list[int]) -> None:
    whole = LineSplitter(1000).feed(stream)
    splitter = LineSplitter(1000)
    got: list[bytes] = []
    start = 0
    for cut in sorted(cuts):
        got += splitter.feed(stream[start:cut])
        start = max(start, cut)
    got += splitter.feed(stream[start:])
    assert got == whole
    assert splitter.buffered == len(stream) - (stream.rfind(b"\n") + 1)


class _Counted(bytes):
    """Bytes that count how many bytes their methods look at, and stay counted through
    slicing, splitting and concatenation."""

    examined = 0

    def _seen(self, *others: bytes) -> None:
        _Counted.examined += len(self) + sum(map(len, others))

    def find(self, sub: bytes, *args: object) -> int:  # type: ignore[override]
        self._seen()
        return super().find(sub, *args)  # type: ignore[arg-type]

    def split(self, sep: bytes | None = None, maxsplit: int = -1) -> list[bytes]:  # type: ignore[override]
        self._seen()
        return [_Counted(part) for part in super().split(sep, maxsplit)]

    def __add__(self, other: bytes) -> _Counted:  # type: ignore[override]
        self._seen(other)
        return _Counted(super().__add__(other))

    def __radd__(self, other: bytes) -> _Counted:
        self._seen(other)
        return _Counted(bytes(other) + bytes(self))

    def __getitem__(self, index: object) -> object:  # type: ignore[override]
        part = super().__getitem__(index)  # type: ignore[index]
        if isinstance(part, bytes):
            _Counted.examined += len(part)
            return _Counted(part)
        return part


def test_a_line_sent_a_byte_at_a_time_is_not_copied_again_for_every_byte() -> None:
    # A peer dribbling a 64 KiB line used to cost 0.8 s of CPU: every byte re-joined and
    # re-split the whole unfinished line. The work must grow with the bytes, not squared.
    size = 64 * 1024
    splitter = LineSplitter(size)
    _Counted.examined = 0
    lines: list[bytes] = []
    for byte in b"x" * (size - 1) + b"\n":
        lines += splitter.feed(_Counted(bytes([byte])))
        assert splitter.buffered <= size
    assert lines == [b"x" * (size - 1)]
    assert _Counted.examined <= 10 * size  # the old way looked at about size² / 2 bytes


DEEP_LINES = {
    "brackets": b"[" * 10_000,
    "objects": b'{"a":' * 10_000,
    "closed, in an unknown field": (
        b'{"type":"say","text":"x","extra":' + b"[" * 5000 + b"]" * 5000 + b"}"
    ),
    "after a bad type": b'{"type":5,"x":' + b"[" * 10_000,
}


@pytest.mark.parametrize("line", DEEP_LINES.values(), ids=DEEP_LINES.keys())
def test_deep_nesting_is_a_bad_frame_not_a_recursion_error(line: bytes) -> None:
    for decode in (decode_client_frame, decode_server_frame):
        with pytest.raises(ProtocolError) as exc:
            decode(line)
        assert exc.value.code is Code.BAD_FRAME and not exc.value.fatal
