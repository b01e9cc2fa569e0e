"""Core layer: store, query files, namespaces, errors, configuration.

Nothing here imports Flask or click.
"""
