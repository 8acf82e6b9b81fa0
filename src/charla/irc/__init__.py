"""charla's IRC front-end: IRC clients as members of the same chat (docs/irc.md).

:mod:`~charla.irc.messages` parses and writes IRC lines; :mod:`~charla.irc.session` is
one client's registration and state, with no I/O; :mod:`~charla.irc.translate` maps
commands to charla requests and frames to IRC lines; :mod:`~charla.irc.transport` is the
socket, a :class:`~charla.server.connection.Connection` like a native client's.
"""
