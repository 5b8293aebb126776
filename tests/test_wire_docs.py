"""docs/protocol.md and the wire's definitions (forum/wire, forum/ws/protocol.py) name
the same frames, events and keys: a frame documented has a definition, and one defined
is documented."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal, get_args, get_type_hints

from forum.wire.events import ROOM_EVENTS, EventHeader
from forum.wire.frames import SERVER_FRAMES
from forum.wire.streams import STREAM_EVENTS
from forum.ws.protocol import FRAME_TYPES, ClientFrame

PAGE = (Path(__file__).resolve().parents[1] / "docs" / "protocol.md").read_text()
TICKED = re.compile(r"`([^`]+)`")


def section(heading: str) -> str:
    """The text under `heading`, down to the next heading of the same level or above."""
    level = heading.split(" ", 1)[0]
    start = PAGE.index(f"\n{heading}\n")
    rest = PAGE[start + len(heading) + 2 :]
    above = re.compile(rf"^#{{1,{len(level)}}} ", re.MULTILINE)
    ends = [m.start() for m in above.finditer(rest)]
    return rest[: ends[0]] if ends else rest


def table(text: str, header: str) -> list[list[str]]:
    """The cells of the rows of the table whose header line starts with `header`."""
    lines = text[text.index(header) :].splitlines()
    rows = []
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def keys(shape: Any) -> set[str]:
    return set(shape.__required_keys__ | shape.__optional_keys__)


def test_every_client_frame_documented_is_parsed_and_no_other() -> None:
    rows = table(section("## Client frames"), "| type | fields |")
    documented = {TICKED.findall(row[0])[0] for row in rows}
    models = get_args(get_args(ClientFrame)[0])
    parsed = {get_args(model.model_fields["type"].annotation)[0] for model in models}
    assert documented == parsed == FRAME_TYPES


def test_every_server_frame_documented_has_its_shape_and_no_other() -> None:
    rows = table(section("## Server frames"), "| type | when | shape |")
    documented = {TICKED.findall(row[0])[0]: TICKED.findall(row[2])[0] for row in rows}
    assert documented == {kind: shape.__name__ for kind, shape in SERVER_FRAMES.items()}
    for kind, shape in SERVER_FRAMES.items():
        assert get_type_hints(shape)["type"] == Literal[kind], kind


def test_every_room_event_documented_has_a_shape_whose_keys_it_names() -> None:
    rows = table(section("### Room events"), "| type / op |")
    documented: dict[tuple[str, str], str] = {}
    for first, fields in (row[:2] for row in rows):
        kind, ops = first.split(" / ", 1)
        for op in TICKED.findall(ops):
            pair = (TICKED.findall(kind)[0], op)
            assert pair not in documented, pair
            documented[pair] = fields
    assert set(documented) == set(ROOM_EVENTS)
    for pair, fields in documented.items():
        missing = keys(ROOM_EVENTS[pair]) - set(TICKED.findall(fields))
        assert not missing, (pair, missing)


def test_the_keys_every_room_event_carries_are_documented() -> None:
    events = section("### Room events")
    paragraph = events[events.index("Every event has") :].split("\n\n", 1)[0]
    assert keys(EventHeader) <= set(TICKED.findall(paragraph))


def test_every_stream_event_documented_is_defined_with_its_ops() -> None:
    rows = table(section("## Discussions: server-sent events"), "| stream | events |")
    documented: dict[str, set[str]] = {}
    for row in rows:
        for event, ops in re.findall(r"`(\w+)` \(op ([^)]*)\)", row[1]):
            documented.setdefault(event, set()).update(TICKED.findall(ops))
    assert documented == {event: set(ops) for event, ops in STREAM_EVENTS.items()}
