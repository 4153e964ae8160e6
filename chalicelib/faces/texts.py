"""The French sentences that the pages and the API both show, one wording each: a person reads
the same words in the browser and in an app. What only one face says stays in that face; what
a service says when it refuses (`chalicelib/services/errors.py`: « not yours », « unknown code »,
« too many checks »...) stays with that service, and both faces show its message."""

# A form sent without its CSRF token, or with another browser's: the page is shown again.
EXPIRED_FORM = "Le formulaire a expiré. Veuillez recommencer."


UNKNOWN_FUNDER = (
    "Aucun portail ne correspond à cette adresse. Vérifiez l’adresse de connexion indiquée sur "
    "votre décision de prise en charge."
)
