"""Funders (financeurs) and the settings each one chooses."""
