"""The least-privilege policy of each of the app's Lambda functions (Chalice's `autogen_policy`
is off; Chalice gives each function its own role, with the `iam_policy_file` of its
`lambda_functions` entry in the stage).

`.chalice/policy-<stage>-<function>.json` are this module's output, written by
`python -m infra.deploy`; a test checks the committed files against it and against the tables of
`infra/template.yaml`, and tests/integration/test_permissions.py records which calls each
function makes in a whole journey: each function needs every grant of its own policy, and
nothing more. The API cannot consume a queue, a queue's consumer cannot read another's queue.
Metrics leave in the logs (embedded metric format): no cloudwatch:PutMetricData is needed.
"""

from __future__ import annotations

from typing import Any

DEFAULT_MAIL_DOMAIN = "portail-stagiaire.example.gouv.fr"

# The tables of infra/template.yaml, by name suffix.
TABLE_SUFFIXES = (
    "funders",
    "dossiers",
    "dossier-changes",
    "payments",
    "accounts",
    "sessions",
    "challenges",
    "counters",
    "audit",
    "terms",
    "messages",
    "idempotency",
)

# The tables of the template that have global secondary indexes.
INDEXED_TABLE_SUFFIXES = ("dossiers", "payments", "accounts", "sessions", "messages")

# Chalice's names: the functions of `lambda_functions` in .chalice/config.json, the API first.
FUNCTIONS = (
    "api_handler",
    "funder_files",
    "notifications",
    "security_mails",
    "mail_events",
    "retention",
)

# Who consumes which queue (the function's SQS event source), and who queues mails where.
CONSUMED_QUEUE = {
    "funder_files": "funder-files",
    "notifications": "notifications",
    "security_mails": "security-mails",
    # SES's bounces and complaints, through the SNS topic (infra/template.yaml).
    "mail_events": "mail-events",
}
QUEUES_WRITTEN = {
    # « Mot de passe oublié »'s codes leave the request path.
    "api_handler": ("security-mails",),
    # Ingestion queues « un nouveau paiement est disponible ».
    "funder_files": ("notifications",),
    "notifications": (),
    "security_mails": (),
    "mail_events": (),
    "retention": (),
}
# Every function but mail_events sends mail itself: the mail functions; ingestion when a dossier
# links an account that awaited it; the API for sign-up's temporary password and « Mes messages »;
# retention its warnings and closings.
SENDS_MAIL = ("api_handler", "funder_files", "notifications", "security_mails", "retention")

# What each function reads and writes in DynamoDB, from the services chalicelib/container.py
# wires into its handler; tests/integration/test_permissions.py checks each function needs every
# table, index and action here, and nothing more, in a whole journey.
TABLES: dict[str, tuple[str, ...]] = {
    "api_handler": (
        "funders",
        "dossiers",
        "payments",
        "accounts",
        "sessions",
        "challenges",
        "counters",
        "audit",
        "terms",
        "messages",
    ),
    # Dossiers and payments, their change log, the accounts awaiting a dossier, the run's
    # idempotency record; the messages of a dossier the funder withdraws.
    "funder_files": (
        "funders",
        "dossiers",
        "dossier-changes",
        "payments",
        "accounts",
        "audit",
        "idempotency",
        "messages",
    ),
    # A payment's notice is claimed, its dossier's owner found, the mail sent
    # and counted on the funder's dashboard.
    "notifications": ("accounts", "dossiers", "funders", "payments"),
    # A code armed on its ticket, or a temporary password that ends the account's sessions.
    "security_mails": ("accounts", "audit", "challenges", "sessions"),
    # An address's claim is marked (one conditional update), the account's trail told; a payment
    # mail's bounce marks the payment and counts it on the funder's dashboard.
    "mail_events": ("accounts", "audit", "funders", "payments"),
    # The daily schedule (services/accounts/retention.py): inactive accounts warned then closed
    # (with all that hangs from them), dossiers past their funder's period purged (with theirs).
    "retention": (
        "funders",
        "dossiers",
        "dossier-changes",
        "payments",
        "accounts",
        "sessions",
        "counters",
        "audit",
        "terms",
        "messages",
    ),
}
INDEXED_TABLES: dict[str, tuple[str, ...]] = {
    # The accounts' index is the retention job's alone.
    "api_handler": ("dossiers", "payments", "sessions", "messages"),
    "funder_files": ("payments", "messages"),
    "notifications": (),
    "security_mails": ("sessions",),
    "mail_events": (),
    "retention": INDEXED_TABLE_SUFFIXES,
}
# No Scan: nothing in a request path may grow with the number of trainees. Transactions have no
# action of their own: each item is authorised as the PutItem, UpdateItem... it holds, and a
# ConditionCheck as ConditionCheckItem (the dashboard's activated accounts, where a dossier is
# linked to an activated account: store/dashboard.py::count_activation; a dossier's removal checks
# that no activation marker appeared since its read: store/erasure.py::_delete_and_uncount; a new
# thread checks that its dossier is still its sender's: store/messages.py::create_thread).
TABLE_ACTIONS: dict[str, tuple[str, ...]] = {
    # BatchWriteItem: « Fermer mon compte » deletes sessions, CGU acceptances, unread counters.
    "api_handler": (
        "BatchWriteItem",
        "ConditionCheckItem",
        "DeleteItem",
        "GetItem",
        "PutItem",
        "Query",
        "UpdateItem",
    ),
    # DeleteItem and Query: a withdrawn dossier goes with its payments, changes and messages.
    "funder_files": (
        "BatchGetItem",
        "BatchWriteItem",
        "ConditionCheckItem",
        "DeleteItem",
        "GetItem",
        "PutItem",
        "Query",
        "UpdateItem",
    ),
    "notifications": ("GetItem", "UpdateItem"),
    "security_mails": ("BatchWriteItem", "GetItem", "PutItem", "Query", "UpdateItem"),
    "mail_events": ("PutItem", "UpdateItem"),
    "retention": (
        "BatchGetItem",
        "BatchWriteItem",
        "ConditionCheckItem",
        "DeleteItem",
        "GetItem",
        "PutItem",
        "Query",
        "UpdateItem",
    ),
}
# Who deletes generated PDFs: « Fermer mon compte » (API), a funder's withdrawal of a dossier
# (funder files), inactive accounts and dossiers past their period (retention).
DELETES_DOCUMENTS = ("api_handler", "funder_files", "retention")


def function_name(stage: str, function: str) -> str:
    """The Lambda function's name as Chalice gives it: the API handler is named after the app."""
    prefix = f"portail-stagiaire-{stage}"
    return prefix if function == "api_handler" else f"{prefix}-{function}"


def policy_file_name(stage: str, function: str) -> str:
    return f"policy-{stage}-{function.replace('_', '-')}.json"


def lambda_policies(
    stage: str, mail_domain: str = DEFAULT_MAIL_DOMAIN
) -> dict[str, dict[str, Any]]:
    """Each function's policy, by Chalice's function name."""
    return {function: function_policy(stage, function, mail_domain) for function in FUNCTIONS}


def function_policy(
    stage: str, function: str, mail_domain: str = DEFAULT_MAIL_DOMAIN
) -> dict[str, Any]:
    if function not in FUNCTIONS:
        raise ValueError(f"unknown function {function!r}: add it to infra/policy.py")
    prefix = f"portail-stagiaire-{stage}"
    log_group = f"arn:aws:logs:*:*:log-group:/aws/lambda/{function_name(stage, function)}"
    tables = [f"arn:aws:dynamodb:*:*:table/{prefix}-{suffix}" for suffix in TABLES[function]]
    indexes = [
        f"arn:aws:dynamodb:*:*:table/{prefix}-{suffix}/index/*"
        for suffix in INDEXED_TABLES[function]
    ]
    # Bucket names end with the account id, which the committed file cannot know: the condition
    # keeps the wildcard from reaching a same-named bucket of another account.
    own_account = {"StringEquals": {"s3:ResourceAccount": "${aws:PrincipalAccount}"}}
    exchange = f"arn:aws:s3:::{prefix}-exchange-*"
    documents = f"arn:aws:s3:::{prefix}-documents-*"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "WriteLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [log_group, f"{log_group}:*"],
        },
        {
            "Sid": "UseTables",
            "Effect": "Allow",
            "Action": [f"dynamodb:{action}" for action in TABLE_ACTIONS[function]],
            "Resource": tables + indexes,
        },
    ]
    if function == "funder_files":
        statements += [
            {
                # Versioned bucket: the event names the version, which a retried run reads again.
                "Sid": "ReadFunderFiles",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": f"{exchange}/incoming/*",
                "Condition": own_account,
            },
            {
                "Sid": "WriteFunderReports",
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": f"{exchange}/reports/*",
                "Condition": own_account,
            },
        ]
    if function == "api_handler":
        statements += [
            {
                # The presigned POST of a funder's upload (services/funders/uploads.py) is signed
                # with this role: S3 accepts it only if the role may put the object itself.
                "Sid": "SignFunderUploads",
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": f"{exchange}/incoming/*",
                "Condition": own_account,
            },
            {
                # A file's report page and its presigned download.
                "Sid": "ReadFunderReports",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": f"{exchange}/reports/*",
                "Condition": own_account,
            },
        ]
        statements.append(
            {
                "Sid": "ReadWriteDocuments",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": f"{documents}/*",
                "Condition": own_account,
            }
        )
    if function in DELETES_DOCUMENTS:
        statements += [
            {
                # An account's PDFs share one prefix (services/trainings/document_delivery.py):
                # listed, then deleted.
                "Sid": "ListDocuments",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": documents,
                "Condition": {**own_account, "StringLike": {"s3:prefix": "pdf/*"}},
            },
            {
                "Sid": "DeleteDocuments",
                "Effect": "Allow",
                "Action": "s3:DeleteObject",
                "Resource": f"{documents}/pdf/*",
                "Condition": own_account,
            },
        ]
    if function in CONSUMED_QUEUE:
        queue = CONSUMED_QUEUE[function]
        statements.append(
            {
                # What the event source mapping does under the function's role.
                "Sid": "ConsumeQueue",
                "Effect": "Allow",
                "Action": ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
                "Resource": f"arn:aws:sqs:*:*:{prefix}-{queue}",
            }
        )
    if QUEUES_WRITTEN[function]:
        statements.append(
            {
                "Sid": "QueueMails",
                "Effect": "Allow",
                "Action": ["sqs:GetQueueUrl", "sqs:SendMessage"],
                "Resource": [
                    f"arn:aws:sqs:*:*:{prefix}-{queue}" for queue in QUEUES_WRITTEN[function]
                ],
            }
        )
    if function in SENDS_MAIL:
        statements.append(
            {
                # Sending needs both the identity and, when the mail names it, the configuration
                # set.
                "Sid": "SendMail",
                "Effect": "Allow",
                "Action": "ses:SendRawEmail",
                "Resource": [
                    f"arn:aws:ses:*:*:identity/{mail_domain}",
                    f"arn:aws:ses:*:*:configuration-set/{prefix}",
                ],
            }
        )
    if function == "api_handler":
        statements.append(
            {
                # Secrets Manager appends six random characters to the name in the ARN.
                "Sid": "ReadFranceConnectSecret",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": (
                    f"arn:aws:secretsmanager:*:*:secret:portail-stagiaire/{stage}/"
                    "franceconnect-client-secret-??????"
                ),
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}
