"""The benchmark: the production stack on this machine, under load.

``./bin/bench`` (see ``bench.run``) starts PostgreSQL, Redis, gunicorn and the
worker as the Procfile runs them, drives them with wrk and writes the table to
docs/performance.md. The Django modules here (``settings``, ``urls``,
``views``, ``middleware``) add the floors and the designs the queue replaced;
the site itself never loads them.
"""
