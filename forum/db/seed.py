"""Load the WSIS structure (`seed/wsis.yaml`) into the database, idempotently.

Rows are matched by their natural key (action line code, group slug): a second run adds
nothing, and an edited data file updates titles and descriptions in place. Each group
gets its room with it. On PostgreSQL it holds the setup lock (`setup_lock`), as the
migrations do, so workers or hosts starting together seed once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.db.engine import write_transaction
from forum.db.models import ActionLine, Group, GroupActionLine, Room
from forum.db.setup_lock import take_setup_lock
from forum.domain.textcheck import clean_line
from forum.domain.vocabulary import ActionLineKind, Family, GroupKind
from forum.errors import ForumError

SEED_FILE = Path(__file__).parent / "seed" / "wsis.yaml"
# libyaml's loader where PyYAML has it: the same safe subset, read ten times faster
# (every start reads the file).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_seed_file(path: Path = SEED_FILE) -> dict[str, Any]:
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - a safe loader
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top")
    return data


def _line(entry: dict[str, Any], key: str) -> str:
    """A name or title of the seed, under the rules people's names follow: the
    structure is shown beside them, and an edited file is input like any other."""
    try:
        return clean_line(entry[key], field=key)
    except ForumError as error:
        what = entry.get("slug") or entry.get("code")
        raise ValueError(f"seed entry {what!r}: {error.message}") from None


async def seed_structure(session: AsyncSession, data: dict[str, Any] | None = None) -> int:
    """Insert or update the structure; returns how many rows were added."""
    data = load_seed_file() if data is None else data
    added = 0
    async with write_transaction(session):
        # Workers starting together seed one after the other; each reads after the lock,
        # so the later ones find the rows of the first and add nothing.
        connection = await session.connection()
        await connection.run_sync(take_setup_lock)
        lines = {a.code: a for a in (await session.scalars(select(ActionLine))).all()}
        entries = [(e, ActionLineKind.ACTION_LINE) for e in data.get("action_lines", [])] + [
            (e, ActionLineKind.THEME) for e in data.get("themes", [])
        ]
        for position, (entry, kind) in enumerate(entries):
            line = lines.get(entry["code"])
            if line is None:
                line = lines[entry["code"]] = ActionLine(code=entry["code"])
                session.add(line)
                added += 1
            line.kind = kind
            line.title = _line(entry, "title")
            line.description = entry.get("description", "").strip()
            line.facilitators = list(entry.get("facilitators", []))
            line.position = position
        await session.flush()

        groups = {g.slug: g for g in (await session.scalars(select(Group))).all()}
        rows = await session.execute(
            select(GroupActionLine.group_id, GroupActionLine.action_line_id)
        )
        links = {(group_id, line_id) for group_id, line_id in rows}
        for entry in data.get("groups", []):
            group = groups.get(entry["slug"])
            if group is None:
                group = groups[entry["slug"]] = Group(slug=entry["slug"])
                session.add(group)
                added += 1
            group.name = _line(entry, "name")
            group.kind = GroupKind(entry["kind"])
            group.family = Family(entry["family"])
            group.region = entry.get("region")
            group.description = entry.get("description", "").strip()
            await session.flush()
            for code in entry.get("action_lines", []):
                key = (group.id, lines[code].id)
                if key not in links:
                    session.add(GroupActionLine(group_id=group.id, action_line_id=lines[code].id))
                    links.add(key)
        # A group's room is made with it, so that no read ever has to make one.
        with_room = set((await session.scalars(select(Room.group_id))).all())
        for group in groups.values():
            if group.id not in with_room:
                session.add(Room(group_id=group.id))
                added += 1
    return added
