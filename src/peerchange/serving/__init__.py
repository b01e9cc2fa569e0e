"""How ``peerchange serve`` serves the app in production (the web layer's server side).

- :mod:`~peerchange.serving.gunicorn_app`: gunicorn's master, the settings it gets, the
  shared client table, SIGHUP reloads, the pid file;
- :mod:`~peerchange.serving.worker`: the buffering worker class (an asyncio loop for the
  connections, a pool of app threads, a bounded queue);
- :mod:`~peerchange.serving.http`: one connection, read with h11 under deadlines and
  limits, with our own 400/413/414/431 answers;
- :mod:`~peerchange.serving.wsgi`: the PEP 3333 environ and the spooled answer;
- :mod:`~peerchange.serving.admission`: who the client is (trusted proxies) and its
  budget of concurrent requests and seconds (429);
- :mod:`~peerchange.serving.fast_lane`: answers sent again by the loop alone;
- :mod:`~peerchange.serving.lean` and :mod:`~peerchange.serving.lean_wire`: the common
  ``/sparql`` requests answered without Flask (and, when plain and whole, without h11);
- :mod:`~peerchange.serving.launch`, :mod:`~peerchange.serving.early` and
  :mod:`~peerchange.serving.early_request`: a restart on a built store binds the socket at
  once and answers plain ``/sparql`` queries from a small forked process until the first
  gunicorn worker takes over.
"""
