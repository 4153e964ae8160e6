"""The fake provider's two pages, in French and accessible: pick a test identity, or an error."""

from __future__ import annotations

from datetime import date
from html import escape

from local.fake_franceconnect.identities import TestIdentity

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; color: #161616; background: #fff;
  line-height: 1.5; }
header { background: #000091; color: #fff; padding: 1rem 1.5rem; }
header p { margin: 0; font-weight: 700; font-size: 1.25rem; }
header p span { font-weight: 400; font-size: 1rem; }
main { max-width: 46rem; margin: 0 auto; padding: 1.5rem; }
fieldset { border: 1px solid #929292; padding: 1rem; margin: 0 0 1.5rem; }
legend { font-weight: 700; padding: 0 .5rem; }
.choice { display: flex; gap: .75rem; align-items: flex-start; padding: .5rem 0;
  border-bottom: 1px solid #e5e5e5; }
.choice:last-child { border-bottom: 0; }
.choice input { width: 1.25rem; height: 1.25rem; margin-top: .2rem; }
.details { display: block; color: #3a3a3a; font-size: .95rem; }
.buttons { display: flex; flex-wrap: wrap; gap: 1rem; }
button { font: inherit; font-weight: 500; padding: .5rem 1.5rem; border: 2px solid #000091;
  cursor: pointer; }
button.primary { background: #000091; color: #fff; }
button.secondary { background: #fff; color: #000091; }
button:focus, input:focus { outline: 3px solid #0a76f6; outline-offset: 2px; }
.error { border-left: 4px solid #ce0500; padding: .5rem 1rem; background: #ffe9e9;
  margin-bottom: 1.5rem; }
code { word-break: break-all; }
"""


def _frame(title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} — FranceConnect (fournisseur de test)</title>
<style>{_STYLE}</style>
</head>
<body>
<header>
<p>FranceConnect <span>— fournisseur de test local, aucune donnée réelle</span></p>
</header>
<main>
{body}
</main>
</body>
</html>
"""


def _birth(identity: TestIdentity) -> str:
    try:
        born = date.fromisoformat(identity.birthdate).strftime("%d/%m/%Y")
    except ValueError:
        born = identity.birthdate
    place = (
        f"commune {identity.birthplace}"
        if identity.birthplace
        else f"à l’étranger (pays {identity.birthcountry})"
    )
    born_word = "née" if identity.gender == "female" else "né"
    return f"{born_word} le {born}, {place}"


def authorization_page(
    interaction_id: str,
    client_id: str,
    identities: list[TestIdentity],
    error: str | None = None,
) -> str:
    choices = []
    for identity in identities:
        field_id = f"identite-{identity.key}"
        mail = identity.email or "pas d’adresse mail"
        name = identity.display_name or identity.family_name
        choices.append(
            f"""<div class="choice">
<input type="radio" name="identite" id="{field_id}" value="{escape(identity.key)}"
  aria-describedby="{field_id}-details">
<label for="{field_id}"><strong>{escape(name)}</strong>
<span class="details" id="{field_id}-details">{escape(identity.situation)} — \
{escape(_birth(identity))} — {escape(mail)}</span></label>
</div>"""
        )
    alert = (
        f'<div class="error" role="alert" id="erreur"><p>{escape(error)}</p></div>' if error else ""
    )
    body = f"""<h1>Choisissez une identité de test</h1>
<p>Le service <code>{escape(client_id)}</code> demande votre identité. Ce fournisseur imite
FranceConnect&nbsp;v2 pour le développement et les tests&nbsp;: choisissez la personne avec
laquelle vous connecter, ou annulez pour revenir au service sans vous connecter.</p>
{alert}
<form method="post" action="/api/v2/interaction/{escape(interaction_id)}">
<fieldset>
<legend>Identités de test</legend>
{"".join(choices)}
</fieldset>
<div class="buttons">
<button class="primary" type="submit" name="action" value="continuer">Continuer</button>
<button class="secondary" type="submit" name="action" value="annuler">Annuler</button>
</div>
</form>
"""
    return _frame("Choisissez une identité de test", body)


def error_page(problems: list[str]) -> str:
    items = "".join(f"<li>{escape(problem)}</li>" for problem in problems)
    body = f"""<h1>La demande n’a pas abouti</h1>
<div class="error" role="alert"><p>FranceConnect refuse cette demande&nbsp;:</p>
<ul>{items}</ul></div>
<p>Revenez au service d’où vous venez et recommencez.</p>
"""
    return _frame("La demande n’a pas abouti", body)
