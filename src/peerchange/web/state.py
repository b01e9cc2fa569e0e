"""The app's typed state: a Flask app that holds the :class:`Services` it was built with."""

from __future__ import annotations

from typing import cast

from flask import Flask, current_app

from peerchange.services.assembly import Services


class PeerchangeApp(Flask):
    """The Flask app of peerchange: ``app.services`` holds every service, built once."""

    services: Services


def services() -> Services:
    """Return the services of the app handling the current request."""
    return cast(PeerchangeApp, current_app).services
