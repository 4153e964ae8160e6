"""Wires the Portail stagiaire: settings, middleware, blueprints, event handlers. Nothing else."""

from chalice import Chalice, Rate

from chalicelib.adapters import unavailability
from chalicelib.api import account as account_api
from chalicelib.api import accounts as accounts_api
from chalicelib.api import attestations as attestations_api
from chalicelib.api import funder_dossiers as funder_dossiers_api
from chalicelib.api import funder_files as funder_files_api
from chalicelib.api import messages as messages_api
from chalicelib.api import trainings as trainings_api
from chalicelib.api.responses import api_errors
from chalicelib.container import get_settings
from chalicelib.events.funder_files import handle_funder_file_messages
from chalicelib.events.mail_events import handle_mail_event_messages
from chalicelib.events.notifications import (
    MAIL_CONCURRENCY,
    handle_notification_messages,
    handle_security_mail_messages,
)
from chalicelib.events.retention import handle_retention_schedule
from chalicelib.observability_middleware import observe
from chalicelib.web import account as account_web
from chalicelib.web import attestations as attestations_web
from chalicelib.web import franceconnect as franceconnect_web
from chalicelib.web import funder_files as funder_files_web
from chalicelib.web import funder_lookup as funder_lookup_web
from chalicelib.web import funder_space as funder_space_web
from chalicelib.web import login, pages, signup, trainings
from chalicelib.web import messages as messages_web
from chalicelib.web import organisation as organisation_web
from chalicelib.web import recovery as recovery_web
from chalicelib.web import second_factor as second_factor_web
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
app.register_blueprint(pages.blueprint)
app.register_blueprint(login.blueprint)
app.register_blueprint(signup.blueprint)
app.register_blueprint(trainings.blueprint)
app.register_blueprint(accounts_api.blueprint)
app.register_blueprint(trainings_api.blueprint)
app.register_blueprint(recovery_web.blueprint)
app.register_blueprint(account_web.blueprint)
app.register_blueprint(account_api.blueprint)
app.register_blueprint(franceconnect_web.blueprint)
app.register_blueprint(messages_web.blueprint)
app.register_blueprint(organisation_web.blueprint)
app.register_blueprint(messages_api.blueprint)
app.register_blueprint(attestations_web.blueprint)
app.register_blueprint(attestations_api.blueprint)
app.register_blueprint(second_factor_web.blueprint)
app.register_blueprint(funder_space_web.blueprint)
app.register_blueprint(funder_lookup_web.blueprint)
app.register_blueprint(funder_dossiers_api.blueprint)
app.register_blueprint(funder_files_web.blueprint)
app.register_blueprint(funder_files_api.blueprint)
# Chalice names the Lambda handler after the function, so the wrapper keeps the function's name.
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
)(handle_funder_file_messages)
handle_notification_messages = app.on_sqs_message(
    queue=settings.notifications_queue,
    batch_size=10,
    name="notifications",
    maximum_concurrency=MAIL_CONCURRENCY,
)(handle_notification_messages)
handle_security_mail_messages = app.on_sqs_message(
    queue=settings.security_mails_queue,
    batch_size=10,
    name="security_mails",
    maximum_concurrency=MAIL_CONCURRENCY,
)(handle_security_mail_messages)
# SES's bounces and complaints: a trickle, two copies at most like the others.
MAIL_EVENTS_CONCURRENCY = 2
handle_mail_event_messages = app.on_sqs_message(
    queue=settings.mail_events_queue,
    batch_size=10,
    name="mail_events",
    maximum_concurrency=MAIL_EVENTS_CONCURRENCY,
)(handle_mail_event_messages)
# Once a day: inactive accounts warned, then closed 30 days later (services/accounts/retention.py).
handle_retention_schedule = app.schedule(Rate(1, unit=Rate.DAYS), name="retention")(
    handle_retention_schedule
)
