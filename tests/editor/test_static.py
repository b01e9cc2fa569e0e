"""The editor's static files: served with their types and validators, small, licensed and
pinned (web/assets/package.json, package-lock.json, build.sh rebuild them)."""

from __future__ import annotations

import json
import os

import pytest

from tests.editor.conftest import ASSETS, STATIC, VENDOR, VENDOR_FILES

FILES = [
    ("/static/editor.js", "text/javascript"),
    ("/static/vendor/yasgui.min.js", "text/javascript"),
    ("/static/vendor/yasgui.min.css", "text/css"),
    ("/static/vendor/LICENSE.txt", "text/plain"),
]


@pytest.mark.parametrize("path, media", FILES)
def test_static_files_are_served_with_type_and_validators(client, path, media):
    with client.get(path) as resp:
        assert resp.status_code == 200
        assert resp.mimetype == media
        assert resp.headers.get("Cache-Control")
        etag = resp.headers["ETag"]
        assert resp.headers.get("Last-Modified")
        assert resp.data == (STATIC / path.removeprefix("/static/")).read_bytes()
    with client.get(path, headers={"If-None-Match": etag}) as again:
        assert again.status_code == 304


def test_only_what_the_page_needs_is_committed():
    assert {p.name for p in VENDOR.iterdir()} == VENDOR_FILES
    assert {p.name for p in ASSETS.iterdir() if p.name != "node_modules"} == {
        "package.json", "package-lock.json", "build.sh", "README.md"}
    total = sum(p.stat().st_size for p in VENDOR.iterdir())
    assert total < 2_000_000, total
    assert (VENDOR / "yasgui.min.js").stat().st_size < 1_500_000
    assert (STATIC / "editor.js").stat().st_size < 20_000


def test_the_bundle_has_no_source_map_reference():
    """The map is not shipped; a reference would make devtools ask for a missing file."""
    assert b"sourceMappingURL" not in (VENDOR / "yasgui.min.js").read_bytes()
    assert b"sourceMappingURL" not in (VENDOR / "yasgui.min.css").read_bytes()


def test_the_version_is_pinned_and_licensed():
    package = json.loads((ASSETS / "package.json").read_text())
    version = package["dependencies"]["@zazuko/yasgui"]
    assert version[0].isdigit(), "pin an exact version"
    lock = json.loads((ASSETS / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/@zazuko/yasgui"]["version"] == version
    licence = (VENDOR / "LICENSE.txt").read_text()
    assert f"YASGUI {version}" in licence and "The MIT License" in licence
    # every package the bundle was built from, with its licence
    for path, info in lock["packages"].items():
        if path and path != "node_modules/@zazuko/yasgui":
            assert f"{path.removeprefix('node_modules/')} {info['version']} (" in licence, path
    assert os.access(ASSETS / "build.sh", os.X_OK)
