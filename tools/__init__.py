"""Helpers for building the documentation site (not part of the crmkit package)."""
