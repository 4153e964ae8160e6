"""What the two faces of the portal share: the HTML pages (`chalicelib/web/`) and the JSON API
(`chalicelib/api/`) both import this package, and it imports neither of them.

texts.py: the French sentences both faces show, one wording each. requests.py: what both read of
an HTTP request. outcomes.py: what both do with a service's answer besides showing it.
"""
