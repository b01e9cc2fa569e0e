"""Services: the features shared by the command line and the web app.

Each service works on core objects (store, query files) and returns plain data; the CLI
and the web layer only present it.
"""
