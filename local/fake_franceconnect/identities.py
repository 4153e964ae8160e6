"""The test identities of the fake provider (docs/specs/franceconnect.md): FranceConnect's own
sandbox person, then one edge case each. Claims are spelled the way FranceConnect v2 sends them."""

from __future__ import annotations

from dataclasses import dataclass

FRANCE = "99100"


@dataclass(frozen=True)
class TestIdentity:
    key: str  # stable name used by the picker and by tests
    situation: str  # what the picker says this identity is for
    given_name: str  # every given name, space-separated; "" for a person without one
    family_name: str
    birthdate: str  # YYYY-MM-DD, possibly a presumed date
    gender: str
    birthplace: str  # INSEE code of the town, "" when born abroad
    birthcountry: str  # INSEE code of the country, 99100 for France
    email: str | None = None
    preferred_username: str = ""

    __test__ = False  # a dataclass named Test… is not a pytest test class

    def claims(self, scopes: set[str]) -> dict[str, object]:
        """The identity claims that these scopes grant (`identite_pivot` is the group)."""
        pivot = "identite_pivot" in scopes
        values: dict[str, object] = {
            "given_name": self.given_name,
            "given_name_array": self.given_name.split(),
            "family_name": self.family_name,
            "birthdate": self.birthdate,
            "gender": self.gender,
            "birthplace": self.birthplace,
            "birthcountry": self.birthcountry,
        }
        granted = {
            name: value
            for name, value in values.items()
            if pivot or name in scopes or (name == "given_name_array" and "given_name" in scopes)
        }
        if "email" in scopes and self.email:
            granted["email"] = self.email
        if "preferred_username" in scopes and self.preferred_username:
            granted["preferred_username"] = self.preferred_username
        return granted

    @property
    def display_name(self) -> str:
        return " ".join(part for part in (self.given_name, self.family_name) if part)


IDENTITIES: tuple[TestIdentity, ...] = (
    TestIdentity(
        key="angela",
        situation="Identité de test de FranceConnect, née à Paris 7e",
        given_name="Angela Claire Louise",
        family_name="DUBOIS",
        birthdate="1962-08-24",
        gender="female",
        birthplace="75107",
        birthcountry=FRANCE,
        email="angela.dubois@example.fr",
        preferred_username="DUBOIS",
    ),
    TestIdentity(
        key="sans-prenom",
        situation="Personne sans prénom à l’état civil",
        given_name="",
        family_name="ROUSSEAU",
        birthdate="1975-03-12",
        gender="male",
        birthplace="69123",
        birthcountry=FRANCE,
        email="rousseau.sans-prenom@example.fr",
    ),
    TestIdentity(
        key="sans-courriel",
        situation="Identité sans adresse mail",
        given_name="Paul Henri",
        family_name="MERCIER",
        birthdate="1990-11-03",
        gender="male",
        birthplace="33063",
        birthcountry=FRANCE,
    ),
    TestIdentity(
        key="nee-a-l-etranger",
        situation="Née au Portugal, date de naissance présumée",
        given_name="Ana Maria",
        family_name="SILVA",
        birthdate="1980-01-01",
        gender="female",
        birthplace="",
        birthcountry="99139",
        email="ana.silva@example.fr",
    ),
    TestIdentity(
        key="corse",
        situation="Né en Corse (code commune 2A004, Ajaccio)",
        given_name="Jean-Baptiste Ange",
        family_name="CASANOVA",
        birthdate="1985-06-15",
        gender="male",
        birthplace="2A004",
        birthcountry=FRANCE,
        email="jean-baptiste.casanova@example.fr",
    ),
    TestIdentity(
        key="apostrophe-trait-d-union",
        situation="Nom avec une apostrophe et un trait d’union",
        given_name="Marie-Hélène Anne",
        family_name="D'ARTAGNAN-LÉGER",
        birthdate="1993-04-17",
        gender="female",
        birthplace="13055",
        birthcountry=FRANCE,
        email="marie-helene.dartagnan@example.fr",
    ),
    TestIdentity(
        key="nom-long",
        situation="Nom de famille de plus de 50 caractères",
        given_name="Louis",
        family_name="DE LA ROCHEFOUCAULD-MONTMORENCY DE SAINT-JEAN-PIED-DE-PORT",
        birthdate="1970-02-28",
        gender="male",
        birthplace="75115",
        birthcountry=FRANCE,
        email="louis.delarochefoucauld@example.fr",
    ),
)


def identity(key: str) -> TestIdentity:
    for candidate in IDENTITIES:
        if candidate.key == key:
            return candidate
    raise KeyError(key)
