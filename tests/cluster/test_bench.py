"""``charla bench --target A,B``: one load spread over two nodes of one cluster."""

from __future__ import annotations

import asyncio

from charla.bench.runner import Plan, run_load
from charla.bench.servers import remote_target

from .conftest import Cluster


async def test_bench_spreads_clients_over_two_nodes_and_counts_every_copy(
    cluster: Cluster,
) -> None:
    a = await cluster.node("a")
    b = await cluster.node("b")
    target = remote_target(f"127.0.0.1:{a.port},127.0.0.1:{b.port}")
    assert target.addresses == (("127.0.0.1", a.port), ("127.0.0.1", b.port))
    plan = Plan(clients=12, senders=6, rates=(20,), step_seconds=0.5, workers=1)
    result = await asyncio.to_thread(run_load, target, plan)
    assert result.error is None
    (step,) = result.steps
    # Every member on either node got every message said on either node.
    assert step.expected == step.sent * 12 and step.delivered == step.expected
    assert a.hub is not None and b.hub is not None
    # Clients took the two nodes in turn.
    assert a.hub.metrics.connections == b.hub.metrics.connections == 6
