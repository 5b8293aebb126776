"""Agora: an open, real-time, virtual multi-stakeholder forum."""

__version__ = "0.1.0"
