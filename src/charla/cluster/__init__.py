"""Several charla nodes as one chat: presence over NATS (the ``cluster`` extra).

The ordered log itself is :mod:`charla.bus.nats`; :mod:`charla.cluster.presence` keeps
who is online on the other nodes, nick claims, registered nicks and node liveness.
docs/cluster.md describes both.
"""
