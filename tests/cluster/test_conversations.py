"""Replies, reactions, edits and deletes across nodes: through the stream, in order."""

from __future__ import annotations

from charla.protocol import Deleted, Edited, Error, History, Message, Reaction, Welcome

from .conftest import Cluster


async def test_an_edit_a_reaction_and_a_delete_cross_nodes_in_order(cluster: Cluster) -> None:
    await cluster.node("a")
    await cluster.node("b")
    ana = await cluster.connect("a", "ana")
    bea = await cluster.connect("b", "bea")
    await ana.say("hola a todso")
    message = await bea.expect(Message, text="hola a todso")
    await bea.send({"type": "say", "text": "¡hola!", "reply_to": message.id})
    reply = await ana.expect(Message, text="¡hola!")
    assert reply.thread == message.id and reply.parent is not None
    assert reply.parent.user == "ana"
    await bea.send({"type": "edit", "id": message.id, "text": "no es mío", "label": "e"})
    assert (await bea.expect(Error, label="e")).code == "not_allowed"
    await ana.send({"type": "edit", "id": message.id, "text": "hola a todos"})
    await bea.send({"type": "react", "id": message.id, "emoji": "👍"})
    edited = await bea.expect(Edited)
    assert (edited.id, edited.text) == (message.id, "hola a todos")
    reaction = await ana.expect(Reaction)
    assert (reaction.user, reaction.emoji, reaction.on) == ("bea", "👍", True)
    await ana.send({"type": "delete", "id": message.id})
    deleted = await bea.expect(Deleted)
    assert deleted.id == message.id and deleted.seq > edited.seq
    # A newcomer on either node sees the same state: deleted, the reply pointing at it.
    for node in "ab":
        peer = await cluster.connect(node)
        await peer.send({"type": "hello", "nick": f"eva{node}"})
        await peer.expect(Welcome)
        history = await peer.expect(History)
        by_id = {m.id: m for m in history.messages}
        assert by_id[message.id].deleted and by_id[message.id].text == ""
        assert by_id[reply.id].parent is not None and by_id[reply.id].parent.deleted
