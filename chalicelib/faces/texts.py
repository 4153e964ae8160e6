"""The French sentences that the pages and the API both show, one wording each: a person reads
the same words in the browser and in an app. What only one face says stays in that face."""

# A form sent without its CSRF token, or with another browser's: the page is shown again.
EXPIRED_FORM = "Le formulaire a expiré. Veuillez recommencer."

# The per-address limits of the rate limiter (services/security/throttling.py), by window:
# identification (login, FranceConnect, organisations' space) counts over minutes...
TOO_MANY_ATTEMPTS = "Trop de tentatives depuis votre connexion. Réessayez dans quelques minutes."
# ...sign-up and password recovery over an hour...
TOO_MANY_REQUESTS = "Trop de demandes depuis votre connexion. Réessayez dans une heure."
# ...and the public check of an attestation's code over minutes.
TOO_MANY_CHECKS = (
    "Trop de vérifications depuis votre adresse. Patientez quelques minutes avant de réessayer."
)

UNKNOWN_FUNDER = (
    "Aucun portail ne correspond à cette adresse. Vérifiez l’adresse de connexion indiquée sur "
    "votre décision de prise en charge."
)

# « not found » and « someone else's » read the same: an answer must not tell that a document,
# an attestation or a conversation exists for another account.
DOCUMENT_NOT_YOURS = "Ce document n’existe pas ou n’est pas rattaché à votre compte."
ATTESTATION_NOT_YOURS = (
    "Cette attestation n’existe pas, a été retirée ou n’est pas rattachée à votre compte."
)
THREAD_NOT_FOUND = "Cette conversation n’existe pas ou n’est pas accessible depuis votre compte."
UNKNOWN_ATTESTATION_CODE = (
    "Aucune attestation ne correspond à ce code. Vérifiez-le sur l’attestation : 16 lettres et "
    "chiffres, par exemple ABCD-EFGH-JKLM-NPQR."
)
