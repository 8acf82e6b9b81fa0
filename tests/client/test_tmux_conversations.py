"""Reply, react, edit and delete with the keys, in the real ``charla join`` in tmux."""

from __future__ import annotations

from pathlib import Path

from charla.protocol import Deleted, Edited, Message, Reaction

from ..helpers import Peer, make_config, running
from .test_tmux import Tmux, join_command, pytestmark, tmux  # noqa: F401 (fixture, skip)


async def test_reply_react_edit_and_delete_with_the_keys(
    tmp_path: Path,
    tmux: Tmux,  # noqa: F811 (the fixture imported above)
) -> None:
    async with running(make_config(tmp_path)) as server:
        bob = await Peer.connect(server.port)
        await bob.hello("bob")
        tmux.run(
            "new-session", "-d", "-s", tmux.name, "-x", "100", "-y", "30",
            f"{join_command(server.port, 'es_ES.UTF-8')}; sleep 5",
        )  # fmt: skip
        await tmux.wait_for("conectado como ana")
        await bob.say("¿alguien ha hecho el ejercicio 3?")
        question = await bob.expect(Message, user="bob")
        await tmux.wait_for("ejercicio 3?")
        # Pick it and answer it.
        tmux.keys("M-Up")
        await tmux.wait_for("▶")
        tmux.keys("M-r")
        await tmux.wait_for("respondiendo a bob")
        tmux.keys("sí, sale así", "Enter")
        reply = await bob.expect(Message, user="ana")
        assert (reply.reply_to, reply.text) == (question.id, "sí, sale así")
        await tmux.wait_for("↪ bob: ¿alguien ha hecho el ejercicio 3?")
        # React to the question from the picker.
        tmux.keys("M-Up", "M-Up", "M-a")
        await tmux.wait_for("Reacciona con")
        tmux.keys("1")
        assert (await bob.expect(Reaction)).emoji == "👍"
        await tmux.wait_for("👍 1")
        tmux.keys("Escape")  # drop the selection
        # Up on the empty line edits the answer.
        tmux.keys("Up")
        await tmux.wait_for("editando #")
        tmux.keys("BSpace", "BSpace", "BSpace", "así!", "Enter")
        assert (await bob.expect(Edited)).text == "sí, sale así!"
        await tmux.wait_for("sí, sale así! (editado)")
        # And delete it.
        tmux.keys("M-Up", "M-d")
        assert (await bob.expect(Deleted)).id == reply.id
        await tmux.wait_for("mensaje borrado")
        tmux.keys("/salir", "Enter")
        await bob.close()
