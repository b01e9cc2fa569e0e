"""The app's URL rules build their URLs with a builder compiled on first use
(``web.LazyBuilderRule``): starting the app compiles none, and every rule builds the
same URL werkzeug's own rule builds, from any thread."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from werkzeug.routing import Map, Rule

from peerchange.web import LazyBuilderRule


def sample_values(rule: Rule) -> dict[str, str]:
    values = {}
    for name in rule.arguments:
        items = getattr(rule._converters.get(name), "items", None)  # any(a, b) rules
        values[name] = sorted(items)[0] if items else "x.css"
    return values


def outcome(urls, endpoint: str, values: dict[str, str]) -> str:
    try:
        return urls.build(endpoint, values)
    except Exception as exc:  # noqa: BLE001 - the same failure on both sides counts
        return f"{type(exc).__name__}: {exc}"


def test_every_rule_is_lazy_and_builds_what_werkzeug_builds(app):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]
    assert rules and all(isinstance(r, LazyBuilderRule) for r in rules)
    plain = Map([Rule(r.rule, endpoint=r.endpoint, methods=r.methods, defaults=r.defaults)
                 for r in rules])
    lazy = app.url_map.bind("example.org")
    reference = plain.bind("example.org")
    for rule in rules:
        values = sample_values(rule)
        built = outcome(lazy, rule.endpoint, values)
        assert built == outcome(reference, rule.endpoint, values)
        assert built.startswith("/"), built


def test_a_builder_compiled_by_racing_threads_builds_the_same_url(make_app):
    app = make_app(cors_origins="https://one.example")  # an app of its own: no builder used
    urls = app.url_map.bind("example.org")
    endpoint = next(r.endpoint for r in app.url_map.iter_rules() if r.arguments)
    values = sample_values(next(app.url_map.iter_rules(endpoint)))
    with ThreadPoolExecutor(8) as pool:
        built = list(pool.map(lambda _: urls.build(endpoint, values), range(32)))
    assert len(set(built)) == 1 and built[0].startswith("/")
