"""Wires the Portail stagiaire: settings, middleware, blueprints, event handlers. Nothing else."""

import gc

from chalice import Chalice, Rate

from chalicelib.adapters import unavailability
from chalicelib.api.responses import api_errors
from chalicelib.container import get_settings
from chalicelib.lazy_entry_points import deferred_handler, register_routes
from chalicelib.observability_middleware import observe
from chalicelib.route_table import ROUTES
from chalicelib.services.mail.pacing import MAIL_CONCURRENCY
from chalicelib.web import pages
from chalicelib.web.security_headers import security_headers
from chalicelib.web.unread import forget_between_requests

settings = get_settings()
unavailability.install()  # before any AWS client exists: the error pages tell « indisponible »

app = Chalice(app_name="portail-stagiaire", configure_logs=False)
app.register_middleware(observe, "all")
app.register_middleware(
    security_headers(
        hsts=settings.strict_transport_security, form_targets=settings.franceconnect_origins
    ),
    "http",
)
# Registered after the headers: Chalice runs the first middleware outermost, so the French error
# pages that this one substitutes still get the security headers.
app.register_middleware(pages.html_error_pages, "http")
# Under /api/ only: Chalice's own error answers take the API's JSON shape, never cached.
app.register_middleware(api_errors, "http")
# A warm Lambda reuses its context: the unread count of the last request's session is forgotten.
app.register_middleware(forget_between_requests, "http")
# Each route's module is imported at its first request (chalicelib/lazy_entry_points.py).
register_routes(app, ROUTES)
# Chalice names the Lambda handler after the function, so the wrapper keeps the function's name;
# each handler's module is imported at its first event, never by the API's Lambda.
# Each event source invokes at most 2 copies of its function at once (the least SQS event
# sources accept): the mail functions pace their sends to SES's rate over that many copies
# (chalicelib/events/notifications.py; a throttled mail goes back to its queue) and leave the
# account's concurrency to the API; funder files are ingested two at a time. A bound on the
# event source rather than reserved concurrency: Lambda then does not poll more than it may
# invoke, so nothing is throttled, and a new account's small concurrency quota is not carved up
# (README, « Dimensionnement des fonctions »).
FUNDER_FILES_CONCURRENCY = 2
handle_funder_file_messages = app.on_sqs_message(
    queue=settings.funder_files_queue,
    batch_size=1,
    name="funder_files",
    maximum_concurrency=FUNDER_FILES_CONCURRENCY,
)(deferred_handler("chalicelib.events.funder_files", "handle_funder_file_messages"))
handle_notification_messages = app.on_sqs_message(
    queue=settings.notifications_queue,
    batch_size=10,
    name="notifications",
    maximum_concurrency=MAIL_CONCURRENCY,
)(deferred_handler("chalicelib.events.notifications", "handle_notification_messages"))
handle_security_mail_messages = app.on_sqs_message(
    queue=settings.security_mails_queue,
    batch_size=10,
    name="security_mails",
    maximum_concurrency=MAIL_CONCURRENCY,
)(deferred_handler("chalicelib.events.notifications", "handle_security_mail_messages"))
# SES's bounces and complaints: a trickle, two copies at most like the others.
MAIL_EVENTS_CONCURRENCY = 2
handle_mail_event_messages = app.on_sqs_message(
    queue=settings.mail_events_queue,
    batch_size=10,
    name="mail_events",
    maximum_concurrency=MAIL_EVENTS_CONCURRENCY,
)(deferred_handler("chalicelib.events.mail_events", "handle_mail_event_messages"))
# Once a day: inactive accounts warned, then closed 30 days later (services/accounts/retention.py).
handle_retention_schedule = app.schedule(Rate(1, unit=Rate.DAYS), name="retention")(
    deferred_handler("chalicelib.events.retention", "handle_retention_schedule")
)
# What the import made (modules, classes, the routes) lives as long as the Lambda: moved out of
# the garbage collector's reach, no later full collection walks it again. A cold « Mes formations »
# ran one while loading DynamoDB's description, about 12 ms spent walking the app's objects.
gc.freeze()
