"""The benchmark harness: peerchange against Oxigraph server, Virtuoso and rdflib-endpoint.

One run starts each server on the same data, one after another, measures its load time,
peak memory and disk, drives the same two SPARQL mixes (fixed and varied) over HTTP, runs
peerchange once more without its answer cache, times validation, and writes the results
(JSON, Markdown, scaling plots) to ``bench/results``. ``python -m bench.harness --help``.
"""
