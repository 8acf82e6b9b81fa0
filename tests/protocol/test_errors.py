"""ProtocolError: an English message for logs, a template and values for translations."""

from __future__ import annotations

from charla.i18n import tr
from charla.protocol import Code, ProtocolError


def test_a_message_with_values_is_english_with_its_fields_filled() -> None:
    exc = ProtocolError(Code.NO_SUCH_USER, "nobody called {who} is here", who="'eve'")
    assert str(exc) == exc.message == "nobody called 'eve' is here"
    assert exc.template == "nobody called {who} is here"
    assert tr("es", exc.template, **exc.values) == "aquí no hay nadie llamado 'eve'"


def test_a_plain_message_is_its_own_template() -> None:
    exc = ProtocolError(Code.FLOOD, "too many messages too fast", fatal=True, retry_after=2.0)
    assert (exc.message, exc.template, exc.values) == (exc.template, str(exc), {})
    assert exc.fatal and exc.retry_after == 2.0


def test_values_are_not_read_as_templates() -> None:
    # A nick or a reason holding braces is shown as typed, in either language.
    exc = ProtocolError(Code.NICK_TAKEN, "{nick} is already in use", nick="{who}")
    assert exc.message == "{who} is already in use"
    assert tr("es", exc.template, **exc.values) == "{who} ya está en uso"
