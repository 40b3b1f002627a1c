"""Benchmarks for the numbers in /work/shared/design.md ("Numbers measured on these machines").

Run with `make bench`. Each run drops and recreates a private database, `crm_bench`, on
the same server as DATABASE_URL, so the developer's database is never touched and runs
are comparable. Every result is printed next to a reference measured in the same run
(as a ratio), and a JSON summary goes to bench/results/latest.json.
"""
