"""Accounts: sign-up, Identification and its first-login steps, « Mot de passe oublié »,
« Mon compte », « Mes données », closing and retention."""
