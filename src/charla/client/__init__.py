"""charla's clients: the connection they share, the plain line mode, the scripting
commands and the Textual app (``charla.client.tui``)."""
