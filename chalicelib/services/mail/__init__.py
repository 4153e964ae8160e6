"""The mails of the portal, their delivery (bounces, complaints) and the payment notifications."""
