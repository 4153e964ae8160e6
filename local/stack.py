"""`make run`: the whole portal on one machine, in one process (docs/specs/architecture.md, "The
local stack").

1. the AWS emulator (moto server) with the resources of infra/template.yaml;
2. the fake FranceConnect provider (local/fake_franceconnect/), on its own port;
3. the demo data, dropped as funder files into the exchange bucket;
4. the Chalice app on http://localhost:8000, reached through the local front (local/front.py):
   CloudFront's static files and API Gateway's proxy events, limits and binary rule, as in AWS;
5. the S3 → SQS → handler leg, through a poller calling the same handler as AWS;
6. every mail written to .local/outbox/ and summarised on the console; a mail to SES's mailbox
   simulator (bounce@, complaint@simulator.amazonses.com) gets SES's event, through the SNS topic
   and the mail-events queue to its handler (local/ses_events.py).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.fake_franceconnect.clients import LOCAL_CLIENT_ID, LOCAL_CLIENT_SECRET

PROJECT_DIR = Path(__file__).resolve().parent.parent
LOCAL_DIR = PROJECT_DIR / ".local"
ACCOUNT_ID = "123456789012"


@dataclass(frozen=True)
class StackAddresses:
    host: str
    aws_port: int
    app_port: int
    franceconnect_port: int = 4567

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.aws_port}"

    @property
    def app_url(self) -> str:
        return f"http://localhost:{self.app_port}"

    @property
    def franceconnect_url(self) -> str:
        return f"http://{self.host}:{self.franceconnect_port}"


def stage_environment(stage: str) -> dict[str, str]:
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    return dict(config["stages"][stage].get("environment_variables", {}))


def configure_environment(addresses: StackAddresses, stage: str = "local") -> dict[str, str]:
    """The local stage's variables plus what makes every AWS client talk to the emulator."""
    environment = stage_environment(stage)
    environment.update(
        {
            "STAGE": stage,
            "AWS_ENDPOINT_URL": addresses.endpoint_url,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": environment.get("AWS_DEFAULT_REGION", "eu-west-3"),
            "AWS_REGION": environment.get("AWS_DEFAULT_REGION", "eu-west-3"),
            "PUBLIC_BASE_URL": addresses.app_url,
            "FRANCECONNECT_BASE_URL": addresses.franceconnect_url,
            "FRANCECONNECT_CLIENT_ID": LOCAL_CLIENT_ID,
            "FRANCECONNECT_CLIENT_SECRET": LOCAL_CLIENT_SECRET,
            "CAPTCHA_TEST_ANSWER": os.environ.get("CAPTCHA_TEST_ANSWER", ""),
            "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
        }
    )
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(environment)
    return environment


class LocalStack:
    """Starts and stops every piece; usable from `make run` and from the end-to-end tests."""

    def __init__(self, addresses: StackAddresses, outbox_dir: Path, quiet: bool = False) -> None:
        self.addresses = addresses
        self.outbox_dir = outbox_dir
        self.quiet = quiet
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._moto: Any = None
        self._http: Any = None
        self._franceconnect: Any = None
        self.outputs: dict[str, str] = {}
        self.ses_events: Any = None

    def say(self, text: str) -> None:
        if not self.quiet:
            print(text, flush=True)

    def start(self, with_demo: bool = True) -> None:
        configure_environment(self.addresses)
        # The emulator's access log would drown what matters; the app's own logs stay JSON.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        from local.emulator import AtomicMotoServer
        from local.ses_events import keep_message_tags

        keep_message_tags()

        self._moto = AtomicMotoServer(
            ip_address=self.addresses.host,
            port=self.addresses.aws_port,
            post_policy_secret=os.environ["AWS_SECRET_ACCESS_KEY"],  # what the app signs with
        )
        self._moto.start()
        self.say(f"Émulateur AWS : {self.addresses.endpoint_url}")

        from local.fake_franceconnect import FakeFranceConnect, portal_client

        self._franceconnect = FakeFranceConnect(
            [portal_client(self.addresses.app_url)],
            host=self.addresses.host,
            port=self.addresses.franceconnect_port,
        ).start()
        self.say(f"Fournisseur FranceConnect de test : {self.addresses.franceconnect_url}")

        from local.resources import create_resources

        region = os.environ["AWS_REGION"]
        self.outputs = create_resources(self.addresses.endpoint_url, stage="local", region=region)
        self._allow_uploads_from_the_app(region)
        self._verify_mail_sender(region)

        from chalicelib.container import reset_container

        reset_container()
        import app as portal
        from local.outbox import OutboxWriter
        from local.poller import QueuePoller

        self.ses_events = self._ses_events(region)
        outbox = OutboxWriter(
            self.outbox_dir,
            region=region,
            account_id=ACCOUNT_ID,
            say=self.say,
            on_sent=self.ses_events.publish_for,
        )
        poller = QueuePoller(
            queue_name=os.environ["FUNDER_FILES_QUEUE"],
            handler=portal.handle_funder_file_messages,
            say=self.say,
        )
        notifications = QueuePoller(
            queue_name=os.environ["NOTIFICATIONS_QUEUE"],
            handler=portal.handle_notification_messages,
            say=self.say,
            label="notifications",
        )
        security_mails = QueuePoller(
            queue_name=os.environ["SECURITY_MAILS_QUEUE"],
            handler=portal.handle_security_mail_messages,
            say=self.say,
            label="courriels de sécurité",
        )
        mail_events = QueuePoller(
            queue_name=os.environ["MAIL_EVENTS_QUEUE"],
            handler=portal.handle_mail_event_messages,
            say=self.say,
            label="retours de courriels",
        )
        threads = (outbox.run, poller.run, notifications.run, security_mails.run, mail_events.run)
        for target in threads:
            thread = threading.Thread(target=target, args=(self._stop,), daemon=True)
            thread.start()
            self._threads.append(thread)
        self._start_app(portal.app)
        if with_demo:
            from local.demo import load_demo

            load_demo(say=self.say, wait_for=poller.wait_until_idle)

    def _allow_uploads_from_the_app(self, region: str) -> None:
        """The template's CORS rule names the public origin; locally the pages are served from
        the app's address, whose upload form posts straight to the emulated bucket: the same
        rule for that origin (moto answers a preflight by it, so the browser tests exercise it)."""
        import boto3

        from local.resources import exchange_cors_rules, load_template

        boto3.client("s3", region_name=region).put_bucket_cors(
            Bucket=self.outputs["ExchangeBucketName"],
            CORSConfiguration={
                "CORSRules": exchange_cors_rules(load_template(), self.addresses.app_url)
            },
        )

    def _ses_events(self, region: str) -> Any:
        import boto3

        from local.resources import load_template
        from local.ses_events import LocalSesEvents

        sns = boto3.client("sns", region_name=region)
        return LocalSesEvents.from_template(sns, load_template(), self.outputs)

    def _verify_mail_sender(self, region: str) -> None:
        import boto3

        sender = os.environ["MAIL_SENDER"]
        boto3.client("ses", region_name=region).verify_domain_identity(
            Domain=sender.rpartition("@")[2]
        )

    def _start_app(self, chalice_app: Any) -> None:
        # Not Chalice's dev server: it decodes base64 whatever the Accept header and ignores the
        # stage prefix and the limits (docs/specs/architecture.md, D10).
        from local.front import portal_front, serve

        front = portal_front(chalice_app, self.addresses.app_url)
        self._http = serve(front, self.addresses.host, self.addresses.app_port)
        thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        if self._http is not None:
            self._http.shutdown()
        if self._moto is not None:
            self._moto.stop()
        if self._franceconnect is not None:
            self._franceconnect.stop()
        for thread in self._threads:
            thread.join(timeout=5)

    def wait(self) -> None:
        self._stop.wait()


def print_directions(stack: LocalStack) -> None:
    outputs = stack.outputs
    exchange = outputs.get("ExchangeBucketName", os.environ["EXCHANGE_BUCKET"])
    stack.say(
        "\n".join(
            [
                "",
                "Portail stagiaire — pile locale prête",
                f"  Portail :            {stack.addresses.app_url}/",
                f"  Adresse execute-api : http://{stack.addresses.host}:{stack.addresses.app_port}"
                "/api/ (renvoie vers le portail, comme dans AWS)",
                f"  Émulateur AWS :      {stack.addresses.endpoint_url}",
                f"  FranceConnect test : {stack.addresses.franceconnect_url}/api/v2 "
                "(identités : local/fake_franceconnect/README.md)",
                f"  Seau d'échange :     s3://{exchange}",
                f"  Seau des documents : s3://{os.environ['DOCUMENTS_BUCKET']}",
                f"  Courriels envoyés :  {stack.outbox_dir}/ (un fichier .eml par courriel)",
                "  Déposer un fichier financeur :",
                f"    .venv/bin/python -m chalicelib.admin drop <fichier.csv> --funder <code> "
                f"--endpoint-url {stack.addresses.endpoint_url}",
                f"    (ou : aws --endpoint-url {stack.addresses.endpoint_url} s3 cp <fichier.csv> "
                f"s3://{exchange}/incoming/<code>/)",
                f"  Rapports :           s3://{exchange}/reports/<code>/",
                "  Ctrl-C pour tout arrêter.",
                "",
            ]
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Démarre le portail et son environnement local.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--aws-port", type=int, default=4566)
    parser.add_argument("--app-port", type=int, default=8000)
    parser.add_argument("--fc-port", type=int, default=4567, help="fournisseur FranceConnect")
    parser.add_argument("--outbox", type=Path, default=LOCAL_DIR / "outbox")
    parser.add_argument("--no-demo", action="store_true", help="ne pas charger les données de démo")
    args = parser.parse_args(argv)
    addresses = StackAddresses(args.host, args.aws_port, args.app_port, args.fc_port)
    stack = LocalStack(addresses, args.outbox)
    signal.signal(signal.SIGTERM, lambda *_: stack.stop())
    try:
        stack.start(with_demo=not args.no_demo)
        print_directions(stack)
        stack.wait()
    except KeyboardInterrupt:
        stack.say("\nArrêt de la pile locale…")
    except OSError as error:
        print(f"Impossible de démarrer la pile locale : {error}", file=sys.stderr)
        stack.stop()
        return 1
    stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
