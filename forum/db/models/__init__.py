"""Every table of the forum. Import models from here so that all are registered."""

from forum.db.base import Base
from forum.db.models.accounts import AuthSession, FamilyRequest, User
from forum.db.models.contacts import ContactEntry, ContactMessage, ContactRequest
from forum.db.models.discussions import Board, Cosignature, Post, PostRevision, Thread
from forum.db.models.rooms import (
    Attendance,
    Presence,
    Room,
    RoomEvent,
    RoomSession,
    Spectator,
)
from forum.db.models.structure import ActionLine, Group, GroupActionLine, Membership

__all__ = [
    "ActionLine",
    "Attendance",
    "AuthSession",
    "Base",
    "Board",
    "ContactEntry",
    "ContactMessage",
    "ContactRequest",
    "Cosignature",
    "FamilyRequest",
    "Group",
    "GroupActionLine",
    "Membership",
    "Post",
    "PostRevision",
    "Presence",
    "Room",
    "RoomEvent",
    "RoomSession",
    "Spectator",
    "Thread",
    "User",
]
