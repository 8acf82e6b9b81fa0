"""charla bench storm at a tiny size: everyone comes back, nothing lost or doubled."""

from __future__ import annotations

import pytest

from charla.bench.storm import StormPlan, report, run_storm

pytestmark = pytest.mark.timeout(120)


async def test_a_tiny_storm_resumes_everyone_with_every_message_once() -> None:
    plan = StormPlan(clients=20, room_size=10, rate=40, before=0.5, after=0.5)
    result = await run_storm(plan, note=lambda text: None)
    assert result.error is None, report(result)
    assert result.resumed == 20
    assert result.stored > 0 and result.sent["before"] > 0
    assert result.intact, report(result)
    assert result.resume_max_s is not None
