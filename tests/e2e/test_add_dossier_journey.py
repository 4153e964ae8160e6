"""« Ajouter un dossier » in Chromium: a dossier the funder sent with no mail address is added with
the activation code printed on the décision; a wrong code is refused; axe-core on every page."""

from __future__ import annotations

import pytest

from tests.e2e.test_recovery_journey import sign_up_and_finish_first_login
from tests.support.browser import assert_accessible
from tests.support.journeys import main_text, window

pytestmark = pytest.mark.e2e

# local/demo/dossiers_region-idf.code-activation.csv: one dossier per window size, each with an
# activation code and no courriel, used by no other journey.
PEOPLE = {
    "desktop": {
        "funder": "region-idf",
        "Nom": "GIRARD",
        "Prénom": "Léa",
        "Date de naissance": "05/03/1999",
        "email": "lea.girard@example.fr",
        "dossier": "IDF-2026-000793",
        "code": "LEA7-GIRD-0793-DEMO",
    },
    "phone": {
        "funder": "region-idf",
        "Nom": "BLANC",
        "Prénom": "Théo",
        "Date de naissance": "19/08/1997",
        "email": "theo.blanc@example.fr",
        "dossier": "IDF-2026-000794",
        "code": "THEO-BLNC-0794-DEMO",
    },
}


def test_a_dossier_is_added_with_the_activation_code_of_the_decision(page, stack) -> None:
    person = PEOPLE[window(page)]
    sign_up_and_finish_first_login(page, stack, person, no_dossier=True)

    page.get_by_label("Financeur", exact=True).select_option(label="Région Île-de-France")
    page.get_by_label("N° de dossier").fill(person["dossier"])
    page.get_by_role("button", name="Ajouter", exact=True).click()
    page.wait_for_url("**/formations/ajouter-un-dossier")
    assert "Confirmez que ce dossier est le vôtre" in main_text(page)
    assert_accessible(page)

    code = page.get_by_label("Code reçu par courriel ou code d’activation")
    code.fill("AAAA-BBBB-CCCC-DDDD")
    page.get_by_role("button", name="Ajouter le dossier").click()
    page.wait_for_url("**/formations/ajouter-un-dossier/code")
    assert "Ce code est incorrect ou n’est plus valable" in main_text(page)
    assert_accessible(page)

    code.fill(person["code"].lower())
    page.get_by_role("button", name="Ajouter le dossier").click()
    page.wait_for_url("**/formations?formation=*")
    assert "Agent magasinier" in main_text(page)
    assert_accessible(page)
