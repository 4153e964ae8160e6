"""« Mes messages » (guide, step 7): a trainee writes to the organisation of a training whose
funder enables messages, and the organisation's staff answer from their own space.

Every lookup goes through the reader: a thread of another trainee, of another organisation or of
a funder that switched messages off is answered like a missing one (`NotFound`), never
differently. A message to correct raises `Invalid`, keyed `training`, `subject`, `text` or
`form` (a retry of a submission still under way).
Mails say that a message arrived, never what it says nor (to the organisation) who wrote it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, Protocol

from chalicelib.services.accounts.model import Account, AccountKind, Clock, PortalUrls
from chalicelib.services.accounts.retention import CLOSED_ACCOUNT_REPLY
from chalicelib.services.accounts.sessions import Session
from chalicelib.services.errors import Invalid, NotFound
from chalicelib.services.funders.model import Funder
from chalicelib.services.mail.mails import (
    Mailer,
    MailNotSent,
    new_message_for_organisation_mail,
    new_message_for_trainee_mail,
)
from chalicelib.services.messages.export import export_messages
from chalicelib.services.messages.threads import (
    MAX_MESSAGES_PER_THREAD,
    NO_MESSAGES,
    NO_ORGANISATION_MESSAGES,
    PAGE_SIZE,
    THREAD_ID,
    THREAD_NOT_FOUND,
    DossierLeft,
    Inbox,
    Message,
    MessageRepository,
    Sent,
    Side,
    Thread,
    ThreadView,
    UnreadSessions,
    clean_subject,
    clean_text,
    last,
    new_message_key,
    subject_errors,
    submission_key,
    text_errors,
)
from chalicelib.services.messages.unread import (
    UnreadSnapshot,
    organisation_owner,
    owner_of,
    trainee_owner,
)
from chalicelib.services.trainings.dossiers import Dossier

KEY_SEPARATOR = "~"  # as in « Mes formations »: never in a funder code nor a dossier number
SUBMISSION_UNDER_WAY = (
    "Votre message est en cours d’envoi. Patientez quelques secondes, puis ouvrez « Mes messages » "
    "pour le retrouver."
)
TRAINING_LEFT = (
    "Cette formation n’est plus rattachée à votre compte : votre message n’a pas été envoyé."
)
THREAD_FULL = (
    f"Cette conversation compte déjà {MAX_MESSAGES_PER_THREAD} messages : pour continuer, "
    "commencez-en une nouvelle depuis « Mes messages »."
)
STAFF_PATH = "/organisme/"


class MessageDossiers(Protocol):
    def get(self, funder_code: str, dossier_number: str) -> Dossier | None: ...

    def list_for_account(self, account_id: str) -> list[Dossier]: ...


class AccountLookup(Protocol):
    def get(self, account_id: str) -> Account | None: ...


def training_key(dossier: Dossier) -> str:
    return f"{dossier.funder_code}{KEY_SEPARATOR}{dossier.dossier_number}"


class Messages:
    def __init__(
        self,
        repository: MessageRepository,
        dossiers: MessageDossiers,
        accounts: AccountLookup,
        funders: Callable[[], Mapping[str, Funder]],
        sessions: UnreadSessions,
        mailer: Mailer,
        urls: PortalUrls,
        clock: Clock,
    ) -> None:
        self.repository = repository
        self._dossiers = dossiers
        self._accounts = accounts
        self._funders = funders
        self._sessions = sessions
        self._mailer = mailer
        self._urls = urls
        self._clock = clock

    # What may be seen --------------------------------------------------------------------

    def enabled(self, funder_code: str) -> bool:
        funder = self._funders().get(funder_code)
        return funder is not None and funder.messages_enabled

    def funder_name(self, funder_code: str) -> str:
        funder = self._funders().get(funder_code)
        return funder.name if funder else funder_code

    def unread_snapshot(self, account: Account) -> UnreadSnapshot:
        """Taken when a session opens (Sessions' `unread_of`)."""
        owner = owner_of(account)
        return self.repository.owner_state(owner).snapshot if owner else UnreadSnapshot()

    def trainings(self, account_id: str) -> list[Dossier]:
        """The trainee's trainings whose funder enables messages, newest first."""
        dossiers = [
            dossier
            for dossier in self._dossiers.list_for_account(account_id)
            if self.enabled(dossier.funder_code)
        ]
        return sorted(dossiers, key=lambda d: (d.start_date, training_key(d)), reverse=True)

    def writable_trainings(self, session: Session) -> list[Dossier]:
        """Where the reader may start a conversation: a trainee's trainings with messages."""
        is_trainee = self._side(session) is Side.TRAINEE
        trainings = self.trainings(session.account_id) if is_trainee else []
        if not trainings:
            raise NotFound(NO_MESSAGES)
        return trainings

    def _side(self, session: Session) -> Side:
        return Side.ORGANISATION if session.kind is AccountKind.STAFF else Side.TRAINEE

    def _visible(self, session: Session, thread: Thread) -> bool:
        if not self.enabled(thread.funder_code):
            return False
        if self._side(session) is Side.ORGANISATION:
            siret = session.unread.organisation_siret
            return siret is not None and thread.organisation_siret == siret
        return thread.account_id == session.account_id

    def _load(self, session: Session, thread_id: str) -> tuple[Thread, list[Message]]:
        """The reader's thread with its messages; `NotFound` for any other, as for none."""
        found = None
        # Checked first: an identifier from a URL never names an owner's partition.
        if THREAD_ID.fullmatch(thread_id):
            found = self.repository.thread_with_messages(thread_id)
        if found is None or not self._visible(session, found[0]):
            raise NotFound(THREAD_NOT_FOUND)
        return found

    def inbox(self, session: Session, cursor: str | None = None) -> Inbox:
        """A page of the reader's threads; `NotFound` where « Mes messages » does not exist for
        them."""
        if self._side(session) is Side.ORGANISATION:
            siret = session.unread.organisation_siret
            if siret is None:
                raise NotFound(NO_ORGANISATION_MESSAGES)
            page = self.repository.threads_of_organisation(siret, PAGE_SIZE, cursor)
            trainings: list[Dossier] = []
        else:
            trainings = self.writable_trainings(session)
            page = self.repository.threads_of_account(session.account_id, PAGE_SIZE, cursor)
        threads = [thread for thread in page.threads if self._visible(session, thread)]
        return Inbox(threads, page.next_cursor, self._side(session), trainings)

    def read(self, session: Session, thread_id: str) -> ThreadView:
        """A thread of the reader, newest message last; reading it marks it read."""
        thread, messages = self._load(session, thread_id)
        side = self._side(session)
        unread = thread.unread_for(side)
        theirs = [m.key for m in messages if m.side is side.other]
        mine = [m.key for m in messages if m.side is side]
        new_keys = frozenset(last(theirs, unread))
        not_read_there = frozenset(last(mine, thread.unread_for(side.other)))
        if unread and session.unread.owner:
            snapshot = session.unread.lowered(thread.funder_code, unread)
            if self.repository.mark_read(
                thread, side, session.unread.owner, session.token_hash, snapshot
            ):
                session = replace(session, unread=snapshot)
        return ThreadView(thread, messages, side, new_keys, not_read_there, session)

    # What may be written -----------------------------------------------------------------

    def start(
        self,
        session: Session,
        training: str,
        subject: str,
        text: str,
        submission_id: str | None = None,
    ) -> Sent:
        """A trainee's new conversation with the organisation of one of their trainings.

        `submission_id` (the form's, or the app's Idempotency-Key) makes a retry harmless: the
        same id answers with the thread it created, without a second thread nor a second mail."""
        trainings = {training_key(d): d for d in self.writable_trainings(session)}
        subject, text = clean_subject(subject), clean_text(text)
        errors = {**subject_errors(subject), **text_errors(text)}
        dossier = trainings.get(training)
        if dossier is None:
            errors = {"training": "Choisissez la formation concernée par votre message.", **errors}
        if errors or dossier is None:
            raise Invalid(errors)
        now = self._clock()
        thread = Thread(
            thread_id=uuid.uuid4().hex,
            account_id=session.account_id,
            organisation_siret=dossier.organisation_siret,
            organisation_name=dossier.organisation_name,
            funder_code=dossier.funder_code,
            dossier_number=dossier.dossier_number,
            training_title=dossier.training_title,
            trainee_name=f"{dossier.given_names} {dossier.family_name}",
            subject=subject,
            created_at=now,
            updated_at=now,
            message_count=1,
            unread_for_trainee=0,
            unread_for_organisation=1,
            last_side=Side.TRAINEE,
        )
        message = Message(
            thread.thread_id, new_message_key(now), Side.TRAINEE, session.account_id, text, now
        )
        owner = organisation_owner(thread.organisation_siret)
        key = submission_key(session.account_id, submission_id) if submission_id else None
        try:
            created = self.repository.create_thread(thread, message, owner, key)
        except DossierLeft:
            raise Invalid({"training": TRAINING_LEFT}) from None
        if not created:
            return self._already_sent(key)
        self._publish(owner, thread)
        return Sent(thread.thread_id, notified=self._tell_organisation(dossier))

    def _already_sent(self, key: str | None) -> Sent:
        earlier = self.repository.submitted(key) if key else None
        if earlier is None:  # the same id, another transaction still under way: try again
            raise Invalid({"form": SUBMISSION_UNDER_WAY})
        return Sent(earlier)

    def reply(
        self, session: Session, thread_id: str, text: str, submission_id: str | None = None
    ) -> Sent:
        """The next message of a thread, from whichever side the reader is on (`submission_id`:
        as for `start`)."""
        thread = self._load(session, thread_id)[0]
        side = self._side(session)
        dossier: Dossier | None = None
        if side is Side.TRAINEE:
            # The organisation's address is the funder's latest word on it, and the dossier must
            # still be the trainee's.
            dossier = self._dossiers.get(thread.funder_code, thread.dossier_number)
            if dossier is None or dossier.account_id != session.account_id:
                raise NotFound(THREAD_NOT_FOUND)
        if thread.account_closed:
            raise Invalid({"text": CLOSED_ACCOUNT_REPLY})
        text = clean_text(text)
        errors = text_errors(text)
        if errors:
            raise Invalid(errors)
        if thread.message_count >= MAX_MESSAGES_PER_THREAD:
            raise Invalid({"text": THREAD_FULL})
        now = self._clock()
        message = Message(
            thread.thread_id, new_message_key(now), side, session.account_id, text, now
        )
        owner = (
            organisation_owner(thread.organisation_siret)
            if side is Side.TRAINEE
            else trainee_owner(thread.account_id)
        )
        key = submission_key(session.account_id, submission_id) if submission_id else None
        if not self.repository.add_message(thread, message, owner, key):
            earlier = self.repository.submitted(key) if key else None
            if earlier is not None:
                return Sent(earlier)
            raise Invalid({"text": THREAD_FULL})
        self._publish(owner, thread)
        notified = (
            self._tell_organisation(dossier) if dossier is not None else self._tell_trainee(thread)
        )
        return Sent(thread.thread_id, notified=notified)

    def _publish(self, owner: str, thread: Thread) -> None:
        """The recipients' open sessions take the new count at once (their next page shows it)."""
        state = self.repository.owner_state(owner)
        if owner == trainee_owner(thread.account_id):
            recipients = [thread.account_id]
        else:
            recipients = state.staff_account_ids
        for account_id in recipients:
            self._sessions.publish_unread(account_id, state.snapshot)

    def _send(self, mail: Any) -> bool:
        try:
            self._mailer.send(mail)
        except MailNotSent:
            return False
        return True

    def _tell_organisation(self, dossier: Dossier) -> bool:
        if not dossier.organisation_email:
            return False
        return self._send(
            new_message_for_organisation_mail(
                to=dossier.organisation_email,
                organisation_name=dossier.organisation_name,
                staff_url=self._urls.path(STAFF_PATH),
                portal_url=self._urls.base_url,
            )
        )

    def _tell_trainee(self, thread: Thread) -> bool:
        account = self._accounts.get(thread.account_id)
        if account is None or not account.email:
            return False
        return self._send(
            new_message_for_trainee_mail(
                to=account.email,
                given_name=account.first_given_name,
                login_url=self._urls.login(thread.funder_code),
                portal_url=self._urls.base_url,
            )
        )

    # « Mes données » ---------------------------------------------------------------------

    def export(self, account_id: str) -> list[dict[str, Any]]:
        return export_messages(self.repository, account_id)
