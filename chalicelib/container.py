"""The composition root: the one place that chooses real implementations for the services.

Faces (web, api, events) ask it for what they need; unit tests never import it, they hand
fakes to the services directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any

from chalicelib.settings import Settings

if TYPE_CHECKING:
    from chalicelib.adapters.exchange import ExchangeBucket
    from chalicelib.services.funder_files.ingestion import FunderFileIngestion
    from chalicelib.store.dossiers import DynamoDossierRepository
    from chalicelib.store.funders import DynamoFunderRepository
    from chalicelib.store.payments import DynamoPaymentRepository


@cache
def get_settings() -> Settings:
    return Settings.from_environment()


@dataclass
class Container:
    settings: Settings
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            import boto3

            self._clients[service] = boto3.client(service, region_name=self.settings.aws_region)
        return self._clients[service]

    @cached_property
    def funders(self) -> DynamoFunderRepository:
        from chalicelib.store.funders import DynamoFunderRepository

        return DynamoFunderRepository()

    @cached_property
    def dossiers(self) -> DynamoDossierRepository:
        from chalicelib.store.dossiers import DynamoDossierRepository

        return DynamoDossierRepository()

    @cached_property
    def payments(self) -> DynamoPaymentRepository:
        from chalicelib.store.payments import DynamoPaymentRepository

        return DynamoPaymentRepository()

    @cached_property
    def exchange(self) -> ExchangeBucket:
        from chalicelib.adapters.exchange import ExchangeBucket

        return ExchangeBucket(self.client("s3"), self.settings.exchange_bucket)

    def funder_file_ingestion(self) -> FunderFileIngestion:
        from chalicelib.services.funder_files.ingestion import FunderFileIngestion

        return FunderFileIngestion(
            funders=self.funders,
            dossiers=self.dossiers,
            payments=self.payments,
            clock=lambda: datetime.now(UTC),
        )


@cache
def get_container() -> Container:
    settings = get_settings()
    from chalicelib.store.models import bind_tables

    bind_tables(settings.table_prefix, settings.aws_region)
    return Container(settings=settings)


def reset_container() -> None:
    """Forget settings and clients (tests, local stack) after a change of environment."""
    get_settings.cache_clear()
    get_container.cache_clear()
