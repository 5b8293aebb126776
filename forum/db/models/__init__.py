"""Every table of the forum. Import models from here so that all are registered."""

from forum.db.base import Base
from forum.db.models.access import AccessWindow, ObserverRequest
from forum.db.models.accounts import AuthSession, FamilyRequest, User
from forum.db.models.contacts import ContactEntry, ContactMessage, ContactRequest
from forum.db.models.discussions import Board, Cosignature, Post, PostRevision, Thread
from forum.db.models.meetings import Consultation, Meeting, MeetingPerson
from forum.db.models.records import CalendarKey, FollowUp, RecordChange, SessionMinutes
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
    "AccessWindow",
    "ActionLine",
    "Attendance",
    "AuthSession",
    "Base",
    "Board",
    "Consultation",
    "CalendarKey",
    "ContactEntry",
    "ContactMessage",
    "ContactRequest",
    "Cosignature",
    "FamilyRequest",
    "FollowUp",
    "Group",
    "GroupActionLine",
    "Meeting",
    "MeetingPerson",
    "Membership",
    "ObserverRequest",
    "Post",
    "PostRevision",
    "Presence",
    "RecordChange",
    "Room",
    "RoomEvent",
    "RoomSession",
    "SessionMinutes",
    "Spectator",
    "Thread",
    "User",
]
