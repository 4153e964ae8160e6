"""Simulated trainees for the load figure, run by bench/load.py in a process of their own.

Locust runs on gevent and monkey-patches the standard library when it is imported: that must not
happen in the bench's own process (moto, boto3 and the other benchmarks run there), hence a
child process that prints its figures as one JSON line.

    python -m bench.load_users http://localhost:PORT --users 20 --seconds 30 --max-requests 4000
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from html import unescape
from typing import Any
from urllib.parse import urlsplit

LOOPBACK = {"localhost", "127.0.0.1", "::1"}
USERNAME = "camille.martin@example.fr"  # the ready demo account (local/demo.py)
PASSWORD = "Stagiaire-Demo-2026"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
PAYMENT_LINK = re.compile(r'href="(/formations/paiement\?[^"]+)"')


def _trainee_class() -> type:
    from http.cookiejar import DefaultCookiePolicy

    from locust import HttpUser, between, task

    class LoopbackIsSecure(DefaultCookiePolicy):
        """The portal's cookies are `Secure` (`__Host-`): browsers send them to http://localhost,
        a secure context; Python's cookie jar only over HTTPS. The bench targets loopback only."""

        def return_ok_secure(self, cookie: object, request: object) -> bool:
            return True

    class Trainee(HttpUser):
        """Signs in once, then reads what a trainee reads on payment day."""

        wait_time = between(1.0, 3.0)  # a person reads a page before the next
        payment_path: str | None = None

        def on_start(self) -> None:
            self.client.cookies.set_policy(LoopbackIsSecure())
            home = self.client.get("/region-idf/", name="Se connecter")
            found = CSRF.search(home.text)
            with self.client.post(
                "/region-idf/connexion",
                data={
                    "csrf": found.group(1) if found else "",
                    "username": USERNAME,
                    "password": PASSWORD,
                },
                allow_redirects=False,
                name="Connexion",
                catch_response=True,
            ) as answer:
                if answer.status_code != 303 or answer.headers.get("Location") != "/formations":
                    answer.failure(f"connexion refusée ({answer.status_code})")

        @task(3)
        def trainings(self) -> None:
            page = self.client.get("/formations", name="Mes formations")
            found = PAYMENT_LINK.search(page.text)
            if found:
                self.payment_path = unescape(found.group(1))

        @task(2)
        def payment_detail(self) -> None:
            if not self.payment_path:
                return
            with self.client.get(
                self.payment_path, name="Détail d'un paiement", catch_response=True
            ) as answer:
                if answer.status_code != 200:
                    answer.failure(f"{answer.status_code} pour {self.payment_path}")

        @task(1)
        def payment_notice(self) -> None:
            if not self.payment_path:
                return
            path = self.payment_path.replace("/formations/paiement?", "/formations/paiement/pdf?")
            # The PDF itself comes from S3 by a presigned link: the portal's answer is the 303.
            with self.client.get(
                path, name="Avis de paiement (PDF)", allow_redirects=False, catch_response=True
            ) as answer:
                if answer.status_code != 303:
                    answer.failure(f"pas de lien vers le PDF ({answer.status_code})")

        @task(1)
        def messages(self) -> None:
            self.client.get("/messages", name="Mes messages")

    return Trainee


def run(host: str, users: int, seconds: float, max_requests: int) -> dict[str, Any]:
    if urlsplit(host).hostname not in LOOPBACK:
        raise SystemExit(f"la charge ne vise que la pile locale (boucle locale), pas {host}")
    import gevent
    from locust.env import Environment

    environment = Environment(user_classes=[_trainee_class()], host=host)
    runner = environment.create_local_runner()
    started = time.monotonic()
    runner.start(users, spawn_rate=users)
    while (
        time.monotonic() - started < seconds and environment.stats.total.num_requests < max_requests
    ):
        gevent.sleep(0.2)
    runner.quit()
    elapsed = time.monotonic() - started
    total = environment.stats.total
    errors = {
        f"{error.method} {error.name}: {error.error}": error.occurrences
        for error in environment.stats.errors.values()
    }
    return {
        "users": users,
        "seconds": elapsed,
        "requests": total.num_requests,
        "failures": total.num_failures,
        "requests_per_second": total.num_requests / elapsed if elapsed else 0.0,
        "p50_ms": total.get_response_time_percentile(0.50),
        "p95_ms": total.get_response_time_percentile(0.95),
        "p99_ms": total.get_response_time_percentile(0.99),
        "errors": errors,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("host")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--max-requests", type=int, default=5000)
    arguments = parser.parse_args(argv)
    figures = run(arguments.host, arguments.users, arguments.seconds, arguments.max_requests)
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
