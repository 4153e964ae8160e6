"""« Paramètres » of the funders' space: what a funder may change itself (messages,
FranceConnect if the operator allowed it on this stage, the text of its home page). Each change
is written to the audit trail under the staff member who made it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from chalicelib.services.accounts.model import AuditLog
from chalicelib.services.errors import Invalid
from chalicelib.services.funders.model import Funder

MAX_HOME_TEXT = 1000


class FunderSettingsRepository(Protocol):
    def get(self, code: str) -> Funder | None: ...

    def update_space_settings(
        self,
        code: str,
        *,
        messages_enabled: bool | None = None,
        franceconnect_enabled: bool | None = None,
        home_text: str | None = None,
        expected_version: int | None = None,
    ) -> bool: ...


SETTINGS_CHANGED_MEANWHILE = (
    "Les paramètres ont été modifiés par une autre personne entre-temps. Vérifiez-les et "
    "enregistrez de nouveau."
)


@dataclass(frozen=True)
class SpaceSettings:
    funder_name: str
    messages_enabled: bool
    franceconnect_enabled: bool
    franceconnect_offered: bool
    home_text: str
    version: int = 0  # what the form sends back (SettingsChange.version)


@dataclass(frozen=True)
class SettingsChange:
    messages_enabled: bool
    franceconnect_enabled: bool
    home_text: str
    # The settings' version the form was read at; None: no check (the change is applied over
    # whatever is stored).
    version: int | None = None


def clean_home_text(text: str) -> str:
    """Plain text: line ends unified, trailing spaces and empty lines at the ends dropped."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines).strip()


def home_paragraphs(text: str) -> list[str]:
    """The home text's paragraphs (separated by blank lines), for the page to escape."""
    return [" ".join(part.split()) for part in text.split("\n\n") if part.strip()]


class FunderSettings:
    def __init__(
        self, funders: FunderSettingsRepository, audit: AuditLog, franceconnect_on_stage: bool
    ) -> None:
        self._funders = funders
        self._audit = audit
        self._franceconnect_on_stage = franceconnect_on_stage

    def read(self, funder_code: str) -> SpaceSettings:
        funder = self._funders.get(funder_code)
        if funder is None:
            raise LookupError(funder_code)
        return SpaceSettings(
            funder_name=funder.name,
            messages_enabled=funder.messages_enabled,
            franceconnect_enabled=funder.franceconnect_enabled,
            franceconnect_offered=self._offered(funder),
            home_text=funder.home_text,
            version=funder.settings_version,
        )

    def _offered(self, funder: Funder) -> bool:
        return self._franceconnect_on_stage and funder.may_use_franceconnect

    def change(
        self, funder_code: str, account_id: str, wanted: SettingsChange, client_ip: str | None
    ) -> list[str]:
        """Saves `wanted` and audits each setting changed (their names are returned); raises
        Invalid (keys `home_text`, `franceconnect_enabled`) and changes nothing otherwise."""
        funder = self._funders.get(funder_code)
        if funder is None:
            raise LookupError(funder_code)
        errors: dict[str, str] = {}
        home_text = clean_home_text(wanted.home_text)
        if len(home_text) > MAX_HOME_TEXT:
            errors["home_text"] = (
                f"Le texte d’accueil doit faire {MAX_HOME_TEXT} caractères au plus "
                f"(il en fait {len(home_text)})."
            )
        offered = self._offered(funder)
        if wanted.franceconnect_enabled and not funder.franceconnect_enabled and not offered:
            errors["franceconnect_enabled"] = (
                "FranceConnect n’est pas proposé pour votre portail : demandez-le à l’équipe "
                "du Portail stagiaire."
            )
        if errors:
            raise Invalid(errors)
        if wanted.version is not None and wanted.version != funder.settings_version:
            raise Invalid({"form": SETTINGS_CHANGED_MEANWHILE})
        changes: dict[str, object] = {}
        if wanted.messages_enabled != funder.messages_enabled:
            changes["messages_enabled"] = wanted.messages_enabled
        if wanted.franceconnect_enabled != funder.franceconnect_enabled and (
            offered or not wanted.franceconnect_enabled
        ):
            changes["franceconnect_enabled"] = wanted.franceconnect_enabled
        if home_text != funder.home_text:
            changes["home_text"] = home_text
        if not changes:
            return []
        if not self._funders.update_space_settings(
            funder_code,
            expected_version=wanted.version,
            **changes,  # type: ignore[arg-type]
        ):
            now = self._funders.get(funder_code)
            if now is not None and now.settings_version != funder.settings_version:
                # Another member (or the operator) wrote in between our read and our write.
                raise Invalid({"form": SETTINGS_CHANGED_MEANWHILE})
            raise Invalid(
                {
                    "franceconnect_enabled": "FranceConnect vient d’être retiré de votre portail "
                    "par l’équipe du Portail stagiaire."
                }
            )
        for name, value in changes.items():
            shown = f"{len(str(value))} caractères" if name == "home_text" else _on_off(value)
            self._audit.record(
                account_id,
                "funder-setting-changed",
                client_ip,
                {"funder": funder_code, "setting": name, "value": shown},
            )
        return list(changes)


def _on_off(value: object) -> str:
    return "oui" if value else "non"
