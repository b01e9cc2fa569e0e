"""Helpers of the observability tests: the access log's lines, the metrics as parsed
Prometheus families, and requests from a chosen client address.

- ``access_lines``: a list that fills with the JSON objects the logger ``peerchange.access``
  writes during the test (its own handler, so whatever another test configured does not
  matter; the logger's state is restored after);
- :func:`scrape`: ``GET /metrics`` through a test client from an address, parsed with
  ``prometheus_client.parser``;
- :func:`sample`: one sample's value out of parsed families.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from peerchange.web.access_log import ACCESS_LOGGER

LOOPBACK = {"REMOTE_ADDR": "127.0.0.1"}
OUTSIDER = {"REMOTE_ADDR": "203.0.113.5"}  # TEST-NET-3: never in the default allow-list


class _Collect(logging.Handler):
    def __init__(self, into: list[dict[str, Any]]) -> None:
        super().__init__(logging.INFO)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(json.loads(record.getMessage()))


@pytest.fixture
def access_lines() -> Iterator[list[dict[str, Any]]]:
    """The access-log lines written during the test, parsed (each must be valid JSON)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    saved = (logger.level, logger.propagate, list(logger.handlers))
    lines: list[dict[str, Any]] = []
    handler = _Collect(lines)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lines
    logger.removeHandler(handler)
    logger.setLevel(saved[0])
    logger.propagate = saved[1]
    logger.handlers[:] = saved[2]


Families = dict[str, Any]


def parse(text: str) -> Families:
    """The metric families of a Prometheus text answer, by name."""
    return {family.name: family for family in text_string_to_metric_families(text)}


def scrape(client, environ: dict[str, str] | None = None) -> Families:
    """``/metrics`` from ``environ``'s address (loopback by default), parsed."""
    resp = client.get("/metrics", environ_base=environ or LOOPBACK, buffered=True)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return parse(resp.get_data(as_text=True))


def sample(families: Families, family: str, suffix: str = "", **labels: str) -> float:
    """The value of the sample ``family + suffix`` with exactly ``labels`` (0 when absent:
    a counter nobody has counted yet is not listed)."""
    if family not in families:
        return 0.0
    for s in families[family].samples:
        if s.name == family + suffix and s.labels == labels:
            return s.value
    return 0.0
