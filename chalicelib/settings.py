"""One typed settings object, read from the environment and validated once at start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

Stage = Literal["local", "test", "dev", "prod"]
STAGES: tuple[Stage, ...] = ("local", "test", "dev", "prod")
AUTOMATION_STAGES: tuple[Stage, ...] = ("local", "test")
# FranceConnect's platforms (docs/specs/franceconnect.md); locally, FRANCECONNECT_BASE_URL names the
# fake one.
FRANCECONNECT_HOSTS = {
    "sandbox": "fcp-low.sbx.dev-franceconnect.fr",
    "integration": "fcp-low.integ01.dev-franceconnect.fr",
    "production": "oidc.franceconnect.gouv.fr",
}
# Registered in advance with FranceConnect, under PUBLIC_BASE_URL: one pair for every funder.
FRANCECONNECT_CALLBACK_PATH = "/franceconnect/retour"
FRANCECONNECT_LOGOUT_RETURN_PATH = "/franceconnect/deconnecte"


class SettingsError(RuntimeError):
    """Raised at start when the environment is incomplete or wrong; names every faulty variable."""


@dataclass(frozen=True)
class Settings:
    stage: Stage
    aws_region: str
    table_prefix: str
    exchange_bucket: str
    documents_bucket: str
    funder_files_queue: str
    notifications_queue: str
    security_mails_queue: str
    mail_events_queue: str
    mail_sender: str
    public_base_url: str
    mail_configuration_set: str | None = None
    captcha_test_answer: str | None = None
    # Automated browser journeys all come from 127.0.0.1: they may widen the per-address limits.
    rate_limit_multiplier: int = 1
    franceconnect_base_url: str | None = None
    franceconnect_client_id: str | None = None
    franceconnect_secret_name: str | None = None
    franceconnect_platform: str | None = None
    franceconnect_client_secret: str | None = None  # local and test only; AWS reads the secret

    @property
    def secure_cookies(self) -> bool:
        # Browsers drop `Secure` cookies on plain http, which is what the local stack serves.
        return self.stage != "local"

    @property
    def strict_transport_security(self) -> bool:
        return self.stage != "local"

    @property
    def franceconnect_url(self) -> str | None:
        """FranceConnect's address: FRANCECONNECT_BASE_URL if set, else the platform's host."""
        if self.franceconnect_base_url:
            return self.franceconnect_base_url
        if self.franceconnect_platform:
            return f"https://{FRANCECONNECT_HOSTS[self.franceconnect_platform]}"
        return None

    @property
    def franceconnect_origins(self) -> tuple[str, ...]:
        """FranceConnect's origin, which the button's and the logout's redirects lead to."""
        if not self.franceconnect_url:
            return ()
        parts = urlsplit(self.franceconnect_url)
        return (f"{parts.scheme}://{parts.netloc}",)

    @property
    def franceconnect_configured(self) -> bool:
        secret = self.franceconnect_client_secret or self.franceconnect_secret_name
        return bool(self.franceconnect_url and self.franceconnect_client_id and secret)

    @property
    def franceconnect_redirect_uri(self) -> str:
        return f"{self.public_base_url}{FRANCECONNECT_CALLBACK_PATH}"

    @property
    def franceconnect_post_logout_redirect_uri(self) -> str:
        return f"{self.public_base_url}{FRANCECONNECT_LOGOUT_RETURN_PATH}"

    def table_name(self, suffix: str) -> str:
        return f"{self.table_prefix}-{suffix}"

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        problems: list[str] = []

        def required(name: str) -> str:
            value = env.get(name, "").strip()
            if not value:
                problems.append(f"{name} is missing")
            return value

        def optional(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        stage = required("STAGE")
        if stage and stage not in STAGES:
            problems.append(f"STAGE must be one of {', '.join(STAGES)} (got {stage!r})")
        region = (env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "").strip()
        if not region:
            problems.append("AWS_REGION (or AWS_DEFAULT_REGION) is missing")
        public_base_url = required("PUBLIC_BASE_URL").rstrip("/")
        if public_base_url and not public_base_url.startswith(("https://", "http://localhost")):
            problems.append(
                "PUBLIC_BASE_URL must start with https:// (http://localhost only locally)"
            )
        mail_sender = required("MAIL_SENDER")
        if mail_sender and "@" not in mail_sender:
            problems.append("MAIL_SENDER must be a mail address")
        multiplier_text = optional("RATE_LIMIT_MULTIPLIER") or "1"
        rate_limit_multiplier = int(multiplier_text) if multiplier_text.isdigit() else 0
        if rate_limit_multiplier < 1:
            problems.append("RATE_LIMIT_MULTIPLIER must be a whole number of at least 1")
        elif rate_limit_multiplier > 1 and stage not in AUTOMATION_STAGES:
            problems.append("RATE_LIMIT_MULTIPLIER is only allowed in the local and test stages")
        captcha_test_answer = optional("CAPTCHA_TEST_ANSWER")
        if captcha_test_answer and stage not in AUTOMATION_STAGES:
            problems.append("CAPTCHA_TEST_ANSWER is only allowed in the local and test stages")
        franceconnect = _franceconnect_settings(env, stage, problems)
        values = {
            "table_prefix": required("TABLE_PREFIX"),
            "exchange_bucket": required("EXCHANGE_BUCKET"),
            "documents_bucket": required("DOCUMENTS_BUCKET"),
            "funder_files_queue": required("FUNDER_FILES_QUEUE"),
            "notifications_queue": required("NOTIFICATIONS_QUEUE"),
            "security_mails_queue": required("SECURITY_MAILS_QUEUE"),
            "mail_events_queue": required("MAIL_EVENTS_QUEUE"),
        }
        if problems:
            raise SettingsError("Invalid settings: " + "; ".join(problems) + ".")
        return cls(
            stage=stage,  # type: ignore[arg-type]  # checked against STAGES above
            aws_region=region,
            mail_sender=mail_sender,
            public_base_url=public_base_url,
            mail_configuration_set=optional("MAIL_CONFIGURATION_SET"),
            captcha_test_answer=captcha_test_answer,
            rate_limit_multiplier=max(rate_limit_multiplier, 1),
            franceconnect_client_id=optional("FRANCECONNECT_CLIENT_ID"),
            franceconnect_secret_name=optional("FRANCECONNECT_SECRET_NAME"),
            **franceconnect,
            **values,
        )


def _franceconnect_settings(
    env: Mapping[str, str], stage: str, problems: list[str]
) -> dict[str, str | None]:
    """The platform (or, locally, the fake provider's address) and where the secret comes from."""
    base_url = env.get("FRANCECONNECT_BASE_URL", "").strip().rstrip("/") or None
    platform = env.get("FRANCECONNECT_PLATFORM", "").strip() or None
    secret = env.get("FRANCECONNECT_CLIENT_SECRET", "").strip() or None
    if platform and platform not in FRANCECONNECT_HOSTS:
        problems.append(
            f"FRANCECONNECT_PLATFORM must be one of {', '.join(FRANCECONNECT_HOSTS)} "
            f"(got {platform!r})"
        )
    if base_url and not (
        base_url.startswith("https://")
        or (stage in AUTOMATION_STAGES and base_url.startswith("http://"))
    ):
        problems.append("FRANCECONNECT_BASE_URL must start with https:// (http:// only locally)")
    if secret and stage not in AUTOMATION_STAGES:
        problems.append(
            "FRANCECONNECT_CLIENT_SECRET is only allowed in the local and test stages: "
            "elsewhere the secret is read from Secrets Manager (FRANCECONNECT_SECRET_NAME)"
        )
    return {
        "franceconnect_base_url": base_url,
        "franceconnect_platform": platform,
        "franceconnect_client_secret": secret,
    }
