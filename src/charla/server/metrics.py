"""Counters the server keeps, readable as Prometheus text (``--metrics-port``) or with
``charla stats``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

__all__ = ["Metrics"]


@dataclass
class Metrics:
    connections: int = 0
    refused: int = 0
    messages_in: int = 0
    deliveries: int = 0
    cut_offs: Counter[str] = field(default_factory=Counter)

    def render(self, *, clients: int, rooms: int, commits: int) -> str:
        """The counters in the Prometheus text exposition format."""
        lines = [
            "# HELP charla_clients Connected clients.",
            "# TYPE charla_clients gauge",
            f"charla_clients {clients}",
            "# HELP charla_rooms Rooms with at least one member.",
            "# TYPE charla_rooms gauge",
            f"charla_rooms {rooms}",
            "# HELP charla_connections_total Connections accepted or refused.",
            "# TYPE charla_connections_total counter",
            f"charla_connections_total {self.connections}",
            "# HELP charla_refused_total Connections refused (full, per-address cap).",
            "# TYPE charla_refused_total counter",
            f"charla_refused_total {self.refused}",
            "# HELP charla_messages_total Messages accepted from clients.",
            "# TYPE charla_messages_total counter",
            f"charla_messages_total {self.messages_in}",
            "# HELP charla_deliveries_total Message copies sent to clients.",
            "# TYPE charla_deliveries_total counter",
            f"charla_deliveries_total {self.deliveries}",
            "# HELP charla_commits_total Storage transactions committed.",
            "# TYPE charla_commits_total counter",
            f"charla_commits_total {commits}",
            "# HELP charla_cutoffs_total Clients disconnected by the server, by reason.",
            "# TYPE charla_cutoffs_total counter",
        ]
        lines += [
            f'charla_cutoffs_total{{reason="{reason}"}} {count}'
            for reason, count in sorted(self.cut_offs.items())
        ]
        return "\n".join(lines) + "\n"
