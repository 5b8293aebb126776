"""The shapes of what the forum sends and stores as JSON, one definition each.

Every key a frame, an event or a JSON column carries is named once here, as a
TypedDict; the code that builds one and the code that reads it both use the
definition, so a misspelt or missing key is a type error, not a silent `None` on the
wire. The modules, by what they describe:

- `forum.wire.room`: the room's live state, as its JSON columns hold it (`rooms.queue`,
  `floor`, `spoken`, `floor_tally`, `side_turns`, `observer_seats`) and as `joined` and
  the events carry it: queue entries, the floor, budgets, sessions, presence.
- `forum.wire.events`: the data of every numbered room event (`type`/`op`), what the
  room channel carries besides them (presence updates), and the messages on a
  person's own channel.
- `forum.wire.frames`: every frame the server sends over `/ws` that is not a room event
  (`hello`, `joined`, `ack`, `pong`, `left`, `seat`, `error`, `equity`, `presence`).
- `forum.wire.streams`: the server-sent events of threads and boards.

The frames a client sends are validated, not only typed: they are the pydantic models
of `forum.ws.protocol`. docs/protocol.md documents the same set; tests/test_wire_docs.py
holds the two together.

Runtime values are plain dicts (a TypedDict is one), so the bytes on the wire are those
the dict literals always made. This package imports nothing of the forum: every layer
may use it.
"""
