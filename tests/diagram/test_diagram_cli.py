"""``peerchange diagram`` through the real command line (a subprocess: each run loads the
graph, so these are slow)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tests.diagram.conftest import ID, SVG, parse_svg

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("engine")]


def test_dot_to_stdout(cli, figure):
    done = cli("diagram", "--format", "dot")
    assert done.returncode == 0, done.stderr
    assert done.stdout == figure.dot
    assert done.stdout.startswith("digraph ")


def test_svg_to_a_file(cli, tmp_path, figure):
    out = tmp_path / "model.svg"
    done = cli("diagram", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert str(out) in done.stderr and done.stdout == ""
    text = out.read_text(encoding="utf-8")
    assert ET.fromstring(text).tag == SVG + "svg"
    nodes = parse_svg(text)["nodes"]
    assert sum("mechanism" in n["classes"] for n in nodes.values()) == 3
    assert len(parse_svg(text)["edges"]) == len(figure.edges)


def test_unknown_model_exits_2(cli):
    done = cli("diagram", "--model", ID + "model/nothing", "--format", "dot")
    assert done.returncode == 2
    assert "no change model" in done.stderr and done.stdout == ""


def test_no_engine_exits_2_for_svg_but_dot_still_works(cli):
    env = {"PEERCHANGE_DOT": "none"}
    done = cli("diagram", env=env)
    assert done.returncode == 2 and "pip install graphviz-pure" in done.stderr
    assert cli("diagram", "--format", "dot", env=env).returncode == 0
