"""The least-privilege policy of the app's Lambda role (Chalice's `autogen_policy` is off).

`.chalice/policy-<stage>.json` is this function's output, written by `python -m infra.deploy`; a
test checks the committed files against it and against the tables of `infra/template.yaml`, and
tests/integration/test_permissions.py checks that a whole journey needs every grant, nothing more.
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
INDEXED_TABLE_SUFFIXES = ("dossiers", "payments", "sessions", "messages")

# No Scan: nothing in a request path may grow with the number of trainees. Transactions have no
# action of their own: each item is authorised as the PutItem, UpdateItem... it holds.
DYNAMODB_ACTIONS = [
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
]


def lambda_policy(stage: str, mail_domain: str = DEFAULT_MAIL_DOMAIN) -> dict[str, Any]:
    prefix = f"portail-stagiaire-{stage}"
    log_groups = [
        f"arn:aws:logs:*:*:log-group:/aws/lambda/{prefix}",  # the API function
        f"arn:aws:logs:*:*:log-group:/aws/lambda/{prefix}-*",  # the event handlers
    ]
    tables = [f"arn:aws:dynamodb:*:*:table/{prefix}-{suffix}" for suffix in TABLE_SUFFIXES]
    indexes = [
        f"arn:aws:dynamodb:*:*:table/{prefix}-{suffix}/index/*" for suffix in INDEXED_TABLE_SUFFIXES
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
            "Resource": log_groups + [f"{group}:*" for group in log_groups],
        },
        {
            "Sid": "UseTables",
            "Effect": "Allow",
            "Action": DYNAMODB_ACTIONS,
            "Resource": tables + indexes,
        },
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
        {
            "Sid": "ReadWriteDocuments",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": f"{documents}/*",
            "Condition": own_account,
        },
        {
            "Sid": "ConsumeFunderFiles",
            "Effect": "Allow",
            "Action": [
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:ReceiveMessage",
            ],
            "Resource": f"arn:aws:sqs:*:*:{prefix}-funder-files",
        },
        # Ingestion queues the new-payment mails, « Mot de passe oublié » its codes; the mail
        # handlers consume them.
        *(
            {
                "Sid": sid,
                "Effect": "Allow",
                "Action": [
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:GetQueueUrl",
                    "sqs:ReceiveMessage",
                    "sqs:SendMessage",
                ],
                "Resource": f"arn:aws:sqs:*:*:{prefix}-{queue}",
            }
            for sid, queue in (
                ("QueueAndConsumeNotifications", "notifications"),
                ("QueueAndConsumeSecurityMails", "security-mails"),
            )
        ),
        {
            # Sending needs both the identity and, when the mail names it, the configuration set.
            "Sid": "SendMail",
            "Effect": "Allow",
            "Action": "ses:SendRawEmail",
            "Resource": [
                f"arn:aws:ses:*:*:identity/{mail_domain}",
                f"arn:aws:ses:*:*:configuration-set/{prefix}",
            ],
        },
        {
            # Secrets Manager appends six random characters to the name in the ARN.
            "Sid": "ReadFranceConnectSecret",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": (
                f"arn:aws:secretsmanager:*:*:secret:portail-stagiaire/{stage}/"
                "franceconnect-client-secret-??????"
            ),
        },
    ]
    return {"Version": "2012-10-17", "Statement": statements}
