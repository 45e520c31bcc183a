"""Keep view-link tokens out of the access log.

A view link is a credential for up to 15 minutes; uvicorn's access log writes each
request's path, so the token is masked there (``/view/<token>`` becomes
``/view/[link]``) before any handler formats the line.
"""

from __future__ import annotations

import logging
import re

_TOKEN = re.compile(r"/view/(?!page\.css)[^/?\s\"]+")


class HideViewTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any("/view/" in str(a) for a in record.args):
            record.args = tuple(
                _TOKEN.sub("/view/[link]", a) if isinstance(a, str) else a for a in record.args
            )
        if isinstance(record.msg, str) and "/view/" in record.msg:
            record.msg = _TOKEN.sub("/view/[link]", record.msg)
        return True


HIDE_VIEW_TOKENS = HideViewTokens()
