"""The photocritic web app: `photocritic serve`, or ``create_app()`` for any ASGI server."""
from __future__ import annotations


def create_app(*args, **kwargs):
    """See :func:`photocritic.web.app.create_app`."""
    from photocritic.web.app import create_app as _create_app

    return _create_app(*args, **kwargs)


__all__ = ["create_app"]
