"""Demo data for `make run`, loaded through the real path: funders by the admin service, dossiers
and payments as funder files dropped into the exchange bucket."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from chalicelib.container import get_container
from chalicelib.services.funders import Funder, save_funder

DEMO_DIR = Path(__file__).parent / "demo"

DEMO_FUNDERS = (
    Funder("region-idf", "Région Île-de-France", franceconnect_enabled=True, messages_enabled=True),
    Funder("region-hdf", "Région Hauts-de-France"),
    Funder("france-travail", "France Travail", franceconnect_enabled=True),
)


def load_demo(say: Callable[[str], None], wait_for: Callable[[], None]) -> None:
    container = get_container()
    for funder in DEMO_FUNDERS:
        save_funder(container.funders, funder)
    # Dossiers first: a payment file only accepts dossiers the portal already knows.
    for kind in ("dossiers", "paiements"):
        for path in sorted(DEMO_DIR.glob(f"{kind}_*.csv")):
            funder_code = path.stem.removeprefix(f"{kind}_")
            container.exchange.put(f"incoming/{funder_code}/{path.name}", path.read_bytes())
        wait_for()
    say(f"Données de démo chargées : {len(DEMO_FUNDERS)} financeurs, fichiers de {DEMO_DIR}.")
