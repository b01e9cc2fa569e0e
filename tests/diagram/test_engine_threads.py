"""The layout engine is found by many threads at once (the first trace pages a worker
answers): ``sysconfig`` filled its variables without a lock, and a thread could read them
half filled (``AttributeError: 'userbase'``: a 500 in the benchmark's page mix)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

FRESH_INTERPRETER = textwrap.dedent("""
    import threading
    from peerchange.services import diagram_engine

    barrier = threading.Barrier(16)
    errors = []

    def find():
        barrier.wait()
        try:
            diagram_engine.find_engine()
        except Exception as exc:
            errors.append(repr(exc))

    threads = [threading.Thread(target=find) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(len(errors), errors[:1])
""")


def test_sixteen_threads_find_the_engine_at_once_in_a_fresh_interpreter():
    for _ in range(2):  # each a fresh interpreter: sysconfig not yet filled
        done = subprocess.run([sys.executable, "-c", FRESH_INTERPRETER], capture_output=True,
                              text=True, timeout=60, check=True)
        assert done.stdout.strip() == "0 []", done.stdout
