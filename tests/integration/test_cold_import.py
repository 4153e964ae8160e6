"""What `import app` loads on a cold Lambda: nothing that only some requests need.

A count, not a time (docs/specs/performance.md): each module below costs a cold start several
milliseconds and is imported inside the functions that use it. Run in a fresh interpreter, since
this one has imported everything already.
"""

from __future__ import annotations

import json

from chalicelib.lazy_entry_points import ROUTE_MODULES
from tests.support.fresh_python import run_fresh_python

# Libraries of some pages only (PDF, password hashing, FranceConnect tokens, captcha images,
# address checks, templates), and the parts of the app that only a request or an event reads.
ONLY_SOME_REQUESTS = (
    "reportlab",
    "argon2",
    "joserfc",
    "captcha",
    "PIL",
    "email_validator",
    "email.mime",
    "pyotp",  # the second factor's pages only
    "zoneinfo",  # times of day in Paris: a few pages and messages (services/formatting.py)
    "aws_lambda_powertools",  # made when something is first logged or counted (observability)
    "jinja2",
    "pynamodb.models",
    "chalicelib.store",
    "chalicelib.adapters.pdf",
    "chalicelib.adapters.captcha",
    "chalicelib.adapters.hashing",
    "chalicelib.services.funder_files.ingestion",
    # Each page's module and its use cases: imported at the first request of one of its routes
    # (chalicelib/lazy_entry_points.py), the event handlers' at their first event.
    *(module for module in ROUTE_MODULES if module != "chalicelib.web.pages"),
    "chalicelib.events",
    "chalicelib.services.trainings",
    "chalicelib.services.funder_files",
    "chalicelib.services.mail.mails",
    "chalicelib.services.accounts.login",
    "chalicelib.services.accounts.recovery",
)


def test_import_app_loads_nothing_that_only_some_requests_need() -> None:
    result = run_fresh_python("-c", "import json, sys, app; print(json.dumps(sorted(sys.modules)))")
    loaded = set(json.loads(result.stdout))
    assert "app" in loaded and "chalicelib.route_table" in loaded  # the import did happen
    early = sorted(
        module
        for module in loaded
        for unwanted in ONLY_SOME_REQUESTS
        if module == unwanted or module.startswith(unwanted + ".")
    )
    assert early == []


def test_what_the_import_made_is_out_of_the_collectors_reach() -> None:
    code = "import gc, json, app; print(json.dumps([gc.get_freeze_count(), gc.get_count()]))"
    result = run_fresh_python("-c", code)
    frozen, counts = json.loads(result.stdout)
    assert frozen > 20_000  # the modules' objects, which a full collection no longer walks
    assert counts[2] == 0 and counts[1] == 0
