"""The web client: static files served by ``charla serve --web`` (server/web.py)."""
