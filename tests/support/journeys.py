"""Steps and readings shared by the end-to-end journeys (Playwright pages on the local stack)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from local.background import child_environment

OPERATION = re.compile(r"Combien font (\d+) (plus|moins) (\d+) \?")


def window(page: Any) -> str:
    """« phone » or « desktop »: the `page` fixture's two window sizes."""
    return "phone" if page.viewport_size["width"] < 500 else "desktop"


def wait_for_mail_with(stack: Any, address: str, pattern: str, timeout: float = 30.0) -> re.Match:
    """The newest mail to `address` matching `pattern` (mails leave through the queue)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for mail in reversed(stack.mails_to(address)):
            found = re.search(pattern, mail)
            if found:
                return found
        time.sleep(0.3)
    raise AssertionError(f"aucun courriel « {pattern} » pour {address}")


def main_text(page: Any) -> str:
    """The visible text of the page's main part, non-breaking spaces read as spaces."""
    return " ".join(page.locator("main").inner_text().replace("\u00a0", " ").split())


def solve(page: Any) -> str:
    """The answer to « Mot de passe oublié »'s small operation."""
    label = page.get_by_label(OPERATION).get_attribute("id")
    text = page.locator(f"label[for='{label}']").inner_text()
    first, word, second = OPERATION.search(text).groups()
    return str(int(first) + int(second) if word == "plus" else int(first) - int(second))


def log_in(page: Any, path: str, email: str, password: str) -> None:
    """« Identification » on the login page at `path`, then « Connexion »."""
    page.goto(path)
    page.get_by_label("Utilisateur").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_role("button", name="Connexion").click()


def log_out(page: Any) -> None:
    """The icon at the top right, back to the login page."""
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/?message=deconnecte")


def choose_first_password(page: Any, temporary: str, password: str) -> None:
    """First login, « Configuration et sécurisation du mot de passe »: the mailed password, then
    the personal one twice; the secret question comes next."""
    page.get_by_label("Ancien mot de passe").fill(temporary)
    page.get_by_label(re.compile("^Nouveau mot de passe")).fill(password)
    page.get_by_label("Confirmation du nouveau mot de passe").fill(password)
    page.get_by_role("button", name="Changement du mot de passe").click()
    page.wait_for_url("**/premiere-connexion/question-secrete")


def create_secret_question(page: Any, question: str, answer: str) -> None:
    """First login: the secret question and its answer, then « Envoyer »."""
    page.get_by_label("Question secrète").fill(question)
    page.get_by_label("Réponse secrète").fill(answer)
    page.get_by_role("button", name="Envoyer").click()


def enter_mailed_code(page: Any, stack: Any, address: str) -> None:
    """« Mot de passe oublié »: the code of the newest mail, then the new password's form."""
    code = wait_for_mail_with(stack, address, r"Votre code : (\d{8})").group(1)
    page.get_by_label("Code reçu par courriel").fill(code)
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/mot-de-passe-oublie/nouveau-mot-de-passe")


def invite_with_admin(
    stack: Any, project_dir: Path, email: str, *arguments: str, space: str = "organisme"
) -> str:
    """`python -m chalicelib.admin staff <arguments> --email <email>` against the stack's
    emulator, as an operator would; the temporary password of the invitation mail, which names
    the `space` it opens."""
    command = ["--stage", "local", "--endpoint-url", stack.aws_url, "staff", *arguments]
    subprocess.run(
        [sys.executable, "-m", "chalicelib.admin", *command, "--email", email],
        cwd=project_dir,
        env=child_environment(),
        check=True,
        capture_output=True,
    )
    (mail,) = stack.wait_for_mail(email)
    assert space in mail
    match = re.search(r"Mot de passe provisoire : (\S+)", mail)
    assert match, mail
    return match.group(1)


def invite_funder_staff(
    stack: Any,
    project_dir: Path,
    email: str,
    funder: str = "region-idf",
    role: str = "gestionnaire",
) -> str:
    """`staff invite`: a funder's staff member, Alix DURAND."""
    arguments = ("invite", "--funder", funder, "--role", role)
    names = ("--given-names", "Alix", "--family-name", "DURAND")
    return invite_with_admin(
        stack, project_dir, email, *arguments, *names, space="espace des financeurs"
    )
