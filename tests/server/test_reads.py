"""Store reads shared by callers who ask the same while it waits (resume storms)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from charla.server.reads import SharedReads


async def test_identical_reads_waiting_together_run_once_and_a_started_one_is_not_joined() -> None:
    reads = SharedReads(asyncio.get_running_loop(), 1, name="test-read")
    started, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def blocker() -> None:
        started.set()
        release.wait()

    def since(room: str) -> list[str]:
        calls.append(room)
        return [room]

    busy = asyncio.create_task(reads.read(blocker))
    await asyncio.to_thread(started.wait)  # the only thread is taken: the rest wait
    waiting = [asyncio.create_task(reads.read(since, "aula")) for _ in range(3)]
    other = asyncio.create_task(reads.read(since, "patio"))
    await asyncio.sleep(0)
    release.set()
    results = await asyncio.gather(*waiting, other, busy)
    assert results[:4] == [["aula"]] * 3 + [["patio"]]
    assert sorted(calls) == ["aula", "patio"]
    assert reads.shared == 2
    await reads.read(since, "aula")  # nothing waiting now: a read of its own
    assert calls.count("aula") == 2
    reads.close()


async def test_a_failed_read_fails_every_caller_and_a_cancelled_caller_not_the_others() -> None:
    reads = SharedReads(asyncio.get_running_loop(), 1, name="test-read")
    started, release = threading.Event(), threading.Event()

    def blocker() -> None:
        started.set()
        release.wait()

    def broken(room: str) -> None:
        raise OSError(f"disk gone under {room}")

    busy = asyncio.create_task(reads.read(blocker))
    await asyncio.to_thread(started.wait)
    first = asyncio.create_task(reads.read(broken, "aula"))
    second = asyncio.create_task(reads.read(broken, "aula"))
    await asyncio.sleep(0)
    first.cancel()
    release.set()
    with pytest.raises(OSError, match="aula"):
        await second
    assert first.cancelled()
    await busy
    reads.close()
