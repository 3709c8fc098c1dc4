"""Volunteer Loop: the Telegram bot (adapters, services and the command line)."""

__version__ = "0.1.0"
