"""Powertools Logger and Metrics, created once at module level (D8: no Tracer, it is costly)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

SERVICE = "portail-stagiaire"
METRICS_NAMESPACE = "PortailStagiaire"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)
