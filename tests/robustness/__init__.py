"""Hostile and broken parameter files (issue 13)."""
