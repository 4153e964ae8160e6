"""PynamoDB models: the only description of DynamoDB items in the code.

Table names are bound at start by `bind_tables` from the settings' prefix; `infra/template.yaml`
defines the same tables, keys, indexes and TTL attributes (a test checks they agree).
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.store.connections import forget_clients

UNBOUND = "unbound-table"


class FunderItem(Model):
    """Funders share one partition so that listing them is a single Query (never a Scan)."""

    class Meta:
        table_name = UNBOUND
        table_suffix = "funders"

    kind = UnicodeAttribute(hash_key=True, default="funder")
    funder_code = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    franceconnect_enabled = BooleanAttribute(default=False)
    messages_enabled = BooleanAttribute(default=False)
    retention_years = NumberAttribute(null=True)  # unset: DEFAULT_RETENTION_YEARS
    # Unset on funders saved before the funders' space: the operator's franceconnect_enabled.
    franceconnect_allowed = BooleanAttribute(null=True)
    home_text = UnicodeAttribute(null=True)  # the funder's own, from « Paramètres »
    # Bumped by every change of the settings: « Paramètres » writes only over the version its
    # form was read at (store/funders.py).
    settings_version = NumberAttribute(null=True)
    # The last month of training ends whose dossiers the daily purge has deleted ("YYYY-MM").
    purged_through = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute()


class FunderTableItem(Model):
    """The funders table's other partitions, under the same keys as `FunderItem` (`kind` and
    `funder_code` are only the attribute names): a funder's API keys ("api-key", sk the key id),
    its files ("files#<funder>", sk the file id), its dashboard counters ("dashboard#<funder>",
    sk "total" or "month#YYYY-MM"), and the file-to-counters markers that keep a counter from
    counting twice ("counted#<funder>", sk "<file id>#<what>")."""

    class Meta:
        table_name = UNBOUND
        table_suffix = "funders"

    pk = UnicodeAttribute(hash_key=True, attr_name="kind")
    sk = UnicodeAttribute(range_key=True, attr_name="funder_code")
    funder = UnicodeAttribute(null=True)
    # API key
    secret_hash = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    revoked_at = UTCDateTimeAttribute(null=True)
    # File status record
    file_key = UnicodeAttribute(null=True)
    file_name = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    received_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    sender = UnicodeAttribute(null=True)
    sender_ip = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    counts = MapAttribute(null=True)
    rejected_lines = NumberAttribute(null=True)
    report_key = UnicodeAttribute(null=True)
    # Dashboard counters ("dashboard#<funder>"), only ever changed by atomic ADD updates.
    files = NumberAttribute(null=True)
    lines_rejected = NumberAttribute(null=True)
    dossiers = NumberAttribute(null=True)
    linked_accounts = NumberAttribute(null=True)
    activated_accounts = NumberAttribute(null=True)
    payment_mails_sent = NumberAttribute(null=True)
    payment_mails_bounced = NumberAttribute(null=True)


class DossiersByIdentity(GlobalSecondaryIndex["DossierItem"]):
    class Meta:
        index_name = "by-identity"
        projection = AllProjection()

    identity_key = UnicodeAttribute(hash_key=True)


class DossiersByAccount(GlobalSecondaryIndex["DossierItem"]):
    class Meta:
        index_name = "by-account"
        projection = AllProjection()

    account_id = UnicodeAttribute(hash_key=True)


class DossiersByEndMonth(GlobalSecondaryIndex["DossierItem"]):
    """A funder's dossiers whose training ended in a month: the daily purge of dossiers past
    their funder's retention period queries one month, never scans
    (services/accounts/retention.py)."""

    class Meta:
        index_name = "by-end-month"
        projection = KeysOnlyProjection()

    end_month = UnicodeAttribute(hash_key=True)  # "YYYY-MM" of end_date
    funder_code = UnicodeAttribute(range_key=True)


class DossiersByNameAndBirth(GlobalSecondaryIndex["DossierItem"]):
    """The funder help desk's search by family name and birth date: one exact key per funder
    (services/trainings/dossiers.py `name_birth_key`), a Query, never a Scan."""

    class Meta:
        index_name = "by-name-birth"
        projection = KeysOnlyProjection()

    name_birth_key = UnicodeAttribute(hash_key=True)


class DossierItem(Model):
    class Meta:
        table_name = UNBOUND
        table_suffix = "dossiers"

    funder_code = UnicodeAttribute(hash_key=True)
    dossier_number = UnicodeAttribute(range_key=True)
    identity_key = UnicodeAttribute()
    family_name = UnicodeAttribute()
    given_names = UnicodeAttribute()
    birth_date = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    training_code = UnicodeAttribute()
    training_title = UnicodeAttribute()
    start_date = UnicodeAttribute()
    end_date = UnicodeAttribute()
    organisation_siret = UnicodeAttribute()
    organisation_name = UnicodeAttribute()
    organisation_email = UnicodeAttribute(null=True)
    monthly_rate = UnicodeAttribute()
    decision_date = UnicodeAttribute()
    status = UnicodeAttribute()
    content_hash = UnicodeAttribute()
    account_id = UnicodeAttribute(null=True)
    activation_code_hash = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute()
    source_file = UnicodeAttribute()
    end_month = UnicodeAttribute(null=True)
    name_birth_key = UnicodeAttribute(null=True)  # unset on dossiers not written since

    by_identity = DossiersByIdentity()
    by_account = DossiersByAccount()
    by_end_month = DossiersByEndMonth()
    by_name_birth = DossiersByNameAndBirth()


class DossierChangeItem(Model):
    """The dossier's history: one item per version received from a funder file (its creation,
    then each update: which fields changed, from what). Append-only: put only where absent."""

    class Meta:
        table_name = UNBOUND
        table_suffix = "dossier-changes"

    dossier_key = UnicodeAttribute(hash_key=True)  # "<funder_code>#<dossier_number>"
    # "<file key>#<line>#<content>": a redelivered file records the same version only once.
    # (Items written before lines were kept hold the new content's hash alone.)
    change_id = UnicodeAttribute(range_key=True)
    recorded_at = UTCDateTimeAttribute()
    source_file = UnicodeAttribute()
    changes = MapAttribute()  # field -> {"old": ..., "new": ...}
    line = NumberAttribute(null=True)
    created = BooleanAttribute(null=True)
    received = MapAttribute(null=True)  # field -> value, the version as received


class PaymentLineAttribute(MapAttribute):
    period_start = UnicodeAttribute()
    period_end = UnicodeAttribute()
    element = UnicodeAttribute()
    label = UnicodeAttribute()
    rate = UnicodeAttribute(null=True)
    days = UnicodeAttribute(null=True)
    divisor = UnicodeAttribute(null=True)
    amount = UnicodeAttribute()


class PaymentsByDossier(GlobalSecondaryIndex["PaymentItem"]):
    class Meta:
        index_name = "by-dossier"
        projection = AllProjection()

    dossier_key = UnicodeAttribute(hash_key=True)
    payment_date = UnicodeAttribute(range_key=True)  # ISO date, so that order is chronological


class PaymentItem(Model):
    """A payment and all its lines are one item: storing it is all or nothing by construction."""

    class Meta:
        table_name = UNBOUND
        table_suffix = "payments"

    funder_code = UnicodeAttribute(hash_key=True)
    reference = UnicodeAttribute(range_key=True)
    dossier_key = UnicodeAttribute()
    dossier_number = UnicodeAttribute()
    payment_date = UnicodeAttribute()
    lines = ListAttribute(of=PaymentLineAttribute)
    total = UnicodeAttribute()
    content_hash = UnicodeAttribute()
    source_file = UnicodeAttribute()
    stored_at = UTCDateTimeAttribute()
    notified = BooleanAttribute(default=False)
    # When its mail did not reach the trainee (kept back, or SES's permanent bounce); set once.
    notice_bounced_at = UTCDateTimeAttribute(null=True)

    by_dossier = PaymentsByDossier()


class AccountsByInactivityDue(GlobalSecondaryIndex["AccountItem"]):
    """The accounts whose inactivity warning (or closure) is due on a day: the daily job queries
    one day's partition instead of scanning the table (services/accounts/retention.py)."""

    class Meta:
        index_name = "by-inactivity-due"
        projection = KeysOnlyProjection()

    inactivity_due = UnicodeAttribute(hash_key=True)


class AccountItem(Model):
    """A trainee's or an organisation staff member's account, keyed by a random id."""

    class Meta:
        table_name = UNBOUND
        table_suffix = "accounts"

    account_id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(default="trainee")
    email = UnicodeAttribute(null=True)
    family_name = UnicodeAttribute()
    given_names = UnicodeAttribute()
    birth_date = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    password_hash = UnicodeAttribute(null=True)
    temporary_password_hash = UnicodeAttribute(null=True)
    temporary_password_expires_at = UTCDateTimeAttribute(null=True)
    temporary_password_used = BooleanAttribute(default=False)
    secret_question = UnicodeAttribute(null=True)
    secret_answer_hash = UnicodeAttribute(null=True)
    terms_version = UnicodeAttribute(null=True)
    awaiting_dossier = BooleanAttribute(default=False)
    phone = UnicodeAttribute(null=True)
    franceconnect_sub = UnicodeAttribute(null=True)
    organisation_siret = UnicodeAttribute(null=True)
    organisation_name = UnicodeAttribute(null=True)
    inactivity_due = UnicodeAttribute(null=True)  # ISO day; staff accounts have none
    inactivity_warned = BooleanAttribute(null=True)
    funder_code = UnicodeAttribute(null=True)  # funder staff only
    staff_role = UnicodeAttribute(null=True)
    totp_enabled = BooleanAttribute(null=True)

    by_inactivity_due = AccountsByInactivityDue()


class EmailClaimItem(Model):
    """Makes a mail address unique: written in the same transaction as the account it names.

    Same table as the accounts, under the key "email#<address>": finding an account by its
    address is two GetItem, with no index to keep.
    """

    class Meta:
        table_name = UNBOUND
        table_suffix = "accounts"

    account_id = UnicodeAttribute(hash_key=True)
    owner_id = UnicodeAttribute()
    # SES's feedback on this address (chalicelib/services/mail/delivery.py). Kept on the claim, not
    # the account: a change of address replaces the claim, which clears them in the same
    # transaction, and marking it is one conditional update that no save of the account undoes.
    bounced_at = UTCDateTimeAttribute(null=True)
    complained_at = UTCDateTimeAttribute(null=True)


class SecondFactorItem(Model):
    """An account's TOTP second factor, under "second-factor#<account id>" in the accounts table.

    Its own item: `DynamoAccountRepository.save` puts the whole account, and would otherwise put
    back an older last used time step (a replayable code) or a spent recovery code."""

    class Meta:
        table_name = UNBOUND
        table_suffix = "accounts"

    account_id = UnicodeAttribute(hash_key=True)
    pending_secret = UnicodeAttribute(null=True)  # shown at enrolment, not yet confirmed
    secret = UnicodeAttribute(null=True)
    last_step = NumberAttribute(null=True)  # the last accepted TOTP time step: never again
    recovery_codes = UnicodeSetAttribute(null=True)  # SHA-256 of the unused recovery codes
    enabled_at = UTCDateTimeAttribute(null=True)


class SessionsByAccount(GlobalSecondaryIndex["SessionItem"]):
    class Meta:
        index_name = "by-account"
        projection = KeysOnlyProjection()

    account_id = UnicodeAttribute(hash_key=True)


class SessionItem(Model):
    class Meta:
        table_name = UNBOUND
        table_suffix = "sessions"

    token_hash = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    method = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    last_used_at = UTCDateTimeAttribute()
    csrf_token = UnicodeAttribute()
    pending_step = UnicodeAttribute(null=True)
    terms_version = UnicodeAttribute(null=True)
    id_token = UnicodeAttribute(null=True)
    expires_at = TTLAttribute()
    # The unread messages snapshot (services/messages/unread.py): read with the session, so the
    # count at the top right of every page costs no request of its own.
    messages_owner = UnicodeAttribute(null=True)
    unread_counts = MapAttribute(null=True)  # funder code -> unread messages
    unread_version = NumberAttribute(null=True)

    by_account = SessionsByAccount()


class ChallengeItem(Model):
    class Meta:
        table_name = UNBOUND
        table_suffix = "challenges"

    challenge_id = UnicodeAttribute(hash_key=True)
    purpose = UnicodeAttribute()
    answer_hash = UnicodeAttribute()
    tries = NumberAttribute(default=0)
    subject = UnicodeAttribute(null=True)  # e.g. the account a recovery code was sent for
    data = MapAttribute(null=True)
    expires_at = TTLAttribute()


class CounterItem(Model):
    class Meta:
        table_name = UNBOUND
        table_suffix = "counters"

    counter_key = UnicodeAttribute(hash_key=True)
    count = NumberAttribute(default=0)
    locked_until = UTCDateTimeAttribute(null=True)
    expires_at = TTLAttribute()


class AuditItem(Model):
    class Meta:
        table_name = UNBOUND
        table_suffix = "audit"

    account_id = UnicodeAttribute(hash_key=True)
    event_key = UnicodeAttribute(range_key=True)  # ISO time + "#" + random: ordered, unique
    event = UnicodeAttribute()
    occurred_at = UTCDateTimeAttribute()
    client_ip = UnicodeAttribute(null=True)
    details = MapAttribute(null=True)
    expires_at = TTLAttribute()


class TermsItem(Model):
    """CGU versions (pk "terms", sk "version#<v>"), the current pointer (sk "current") and
    acceptances (pk "acceptance#<account>", sk "<version>#<time>")."""

    class Meta:
        table_name = UNBOUND
        table_suffix = "terms"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    version = UnicodeAttribute()
    text = UnicodeAttribute(null=True)
    published_at = UTCDateTimeAttribute(null=True)
    accepted_at = UTCDateTimeAttribute(null=True)


class AttestationItem(Model):
    """« Mes attestations » share the terms table, under their own partitions: an attestation
    (pk "attestations#<account>", sk "attestation#<id>") lives in its owner's partition, so that
    listing them is one Query and no other account can name it; its look-up item
    (pk "attestation-code#<sha256 of the code>", sk "code") leads `/verifier` to it."""

    class Meta:
        table_name = UNBOUND
        table_suffix = "terms"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    account_id = UnicodeAttribute()
    attestation_id = UnicodeAttribute()
    code = UnicodeAttribute(null=True)
    statement = UnicodeAttribute(null=True)  # JSON: what the PDF states
    issued_at = UTCDateTimeAttribute(null=True)
    expires_at = UTCDateTimeAttribute(null=True)
    withdrawn_at = UTCDateTimeAttribute(null=True)
    verification_count = NumberAttribute(null=True)
    last_verified_at = UTCDateTimeAttribute(null=True)


class IdempotencyItem(Model):
    """Written by Powertools Idempotency (its default attribute names)."""

    class Meta:
        table_name = UNBOUND
        table_suffix = "idempotency"

    id = UnicodeAttribute(hash_key=True)
    expiration = TTLAttribute(null=True)
    status = UnicodeAttribute(null=True)
    data = UnicodeAttribute(null=True)
    in_progress_expiration = NumberAttribute(null=True)


# « Mes messages » ------------------------------------------------------------------------------
# One table, four kinds of items told apart by `item_type`. A thread's partition holds its summary
# ("thread") and its messages ("message#<time>#<random>"), read together by one Query. An owner's
# partition ("trainee#<account>" or "organisation#<SIRET>") holds its unread counters, one per
# funder, and for an organisation its staff members. Only summaries carry `account_id`,
# `organisation_siret` and `updated_at`: the two indexes list threads and nothing else.


class MessagesTableItem(Model):
    class Meta:
        table_name = UNBOUND
        table_suffix = "messages"

    thread_id = UnicodeAttribute(hash_key=True)
    message_key = UnicodeAttribute(range_key=True)
    item_type = DiscriminatorAttribute()


class ThreadsByOrganisation(GlobalSecondaryIndex["ThreadItem"]):
    class Meta:
        index_name = "by-organisation"
        projection = AllProjection()

    organisation_siret = UnicodeAttribute(hash_key=True)
    updated_at = UnicodeAttribute(range_key=True)


class ThreadsByAccount(GlobalSecondaryIndex["ThreadItem"]):
    class Meta:
        index_name = "by-account"
        projection = AllProjection()

    account_id = UnicodeAttribute(hash_key=True)
    updated_at = UnicodeAttribute(range_key=True)


class ThreadItem(MessagesTableItem, discriminator="thread"):
    account_id = UnicodeAttribute()  # the trainee's
    organisation_siret = UnicodeAttribute()
    organisation_name = UnicodeAttribute()
    funder_code = UnicodeAttribute()
    dossier_number = UnicodeAttribute()
    training_title = UnicodeAttribute()
    trainee_name = UnicodeAttribute()
    subject = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UnicodeAttribute()  # ISO time of the last message: the indexes' sort key
    message_count = NumberAttribute(default=0)
    unread_for_trainee = NumberAttribute(default=0)
    unread_for_organisation = NumberAttribute(default=0)
    last_side = UnicodeAttribute()

    by_account = ThreadsByAccount()
    by_organisation = ThreadsByOrganisation()


class MessageItem(MessagesTableItem, discriminator="message"):
    side = UnicodeAttribute()  # "trainee" or "organisation"
    author_account_id = UnicodeAttribute()
    text = UnicodeAttribute()
    sent_at = UTCDateTimeAttribute()


class UnreadCounterItem(MessagesTableItem, discriminator="unread"):
    count = NumberAttribute(default=0)
    version = NumberAttribute(default=0)  # +1 at every change: orders the sessions' snapshots


class SubmissionItem(MessagesTableItem, discriminator="submission"):
    """The mark of one message submission (a form's id, an app's Idempotency-Key), in its own
    partition ("message-submission#<sha256>", "submission"): written with the message, it makes
    a retried submission write nothing. No query reads these partitions."""

    written_thread_id = UnicodeAttribute()
    sent_at = UTCDateTimeAttribute()


class StaffMemberItem(MessagesTableItem, discriminator="staff"):
    staff_account_id = UnicodeAttribute()
    email = UnicodeAttribute()
    added_at = UTCDateTimeAttribute()


ALL_MODELS: tuple[type[Model], ...] = (
    FunderItem,
    FunderTableItem,
    DossierItem,
    DossierChangeItem,
    PaymentItem,
    AccountItem,
    EmailClaimItem,
    SecondFactorItem,
    SessionItem,
    ChallengeItem,
    CounterItem,
    AuditItem,
    TermsItem,
    AttestationItem,
    IdempotencyItem,
    # The kinds of the messages table share its Meta; each keeps its own cached connection.
    MessagesTableItem,
    ThreadItem,
    MessageItem,
    UnreadCounterItem,
    StaffMemberItem,
    SubmissionItem,
)


def bind_tables(table_prefix: str, region: str) -> None:
    """Point every model at its table of this stage. Called once by the composition root."""
    for model in ALL_MODELS:
        model.Meta.table_name = f"{table_prefix}-{model.Meta.table_suffix}"
        model.Meta.region = region
        model._connection = None  # a connection caches the table name it was made for
    forget_clients()  # made for the previous region and credentials
