"""« Mes formations »: dossiers, payments, their documents and attestations,
« Ajouter un dossier »."""
