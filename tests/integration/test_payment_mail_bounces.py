"""A payment mail that bounces is counted on the funder's dashboard and shown in its look-up,
end to end under moto: the notifier sends the mail with SES message tags naming the payment; SES
publishes its bounce event, with those tags in `mail.tags` (event publishing through a
configuration set: https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-
examples.html), to the configuration set's SNS topic; the topic's subscription brings it to the
mail-events queue, read by the handler Lambda calls."""

from __future__ import annotations

from typing import Any

from chalicelib.container import get_container
from chalicelib.services.funders.lookup import CallerKind, FunderCaller
from chalicelib.services.mail.notifications import payment_mail_tags
from tests.integration.test_mail_events import api as api  # the fixture
from tests.integration.test_mail_events import pay, ses_event, ses_publishes
from tests.support.api import LUCAS, Api, complete_first_login
from tests.support.aws import run_queue, ses_send_requests


def bounced_event(request: dict[str, Any], bounce_type: str = "Permanent") -> dict[str, Any]:
    """What SES publishes when the mail of this SendRawEmail bounces: its tags come back."""
    event = ses_event("Bounce", LUCAS["email"], bounce_type)
    for tag in request.get("Tags", []):
        event["mail"]["tags"].setdefault(tag["Name"], []).append(tag["Value"])
    return event


def bounced_count() -> int:
    return get_container().funder_dashboard.read("region-idf").payment_mails_bounced


def looked_up(reference: str) -> Any:
    caller = FunderCaller("region-idf", CallerKind.API, "key-test", "api", True)
    found = get_container().dossier_lookup.by_number(caller, "IDF-2026-000789")
    assert found is not None
    (state,) = [s for s in found.payments if s.payment.reference == reference]
    return state


def test_a_bounced_payment_mail_is_counted_once_and_shown_in_the_look_up(
    aws: dict[str, str], api: Api
) -> None:
    complete_first_login(api)
    with ses_send_requests() as sent:
        pay("IDF-P-BOUNCE-1")
    (request,) = [r for r in sent if any(t["Name"] == "payment" for t in r.get("Tags", []))]
    assert {(t["Name"], t["Value"]) for t in request["Tags"]} == set(
        payment_mail_tags("region-idf", "IDF-P-BOUNCE-1")
    )
    before = bounced_count()
    assert looked_up("IDF-P-BOUNCE-1").bounced_at is None

    # A transient bounce is SES still trying: nothing yet.
    ses_publishes(aws, bounced_event(request, "Transient"))
    run_queue(queue="mail-events")
    assert bounced_count() == before

    # The permanent bounce, published twice (SNS and SQS deliver at least once): counted once.
    ses_publishes(aws, bounced_event(request))
    ses_publishes(aws, bounced_event(request))
    assert run_queue(queue="mail-events") == 2
    assert bounced_count() == before + 1
    state = looked_up("IDF-P-BOUNCE-1")
    assert state.notified and state.bounced_at is not None

    # The next payment mail is kept back (the address bounced): counted as not delivered too.
    pay("IDF-P-BOUNCE-2")
    assert bounced_count() == before + 2
    assert looked_up("IDF-P-BOUNCE-2").bounced_at is not None


def test_a_bounce_of_another_mail_counts_no_payment(aws: dict[str, str], api: Api) -> None:
    complete_first_login(api)
    pay("IDF-P-BOUNCE-3")
    before = bounced_count()
    ses_publishes(aws, ses_event("Bounce", LUCAS["email"]))  # no payment tags: a welcome mail
    run_queue(queue="mail-events")
    assert bounced_count() == before
    assert looked_up("IDF-P-BOUNCE-3").bounced_at is None
