"""Logging in and signing up with FranceConnect."""
