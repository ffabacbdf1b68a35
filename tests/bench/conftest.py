"""make bench: after the run, this run's rows go into results.json and RESULTS.md."""

import pathlib

import benchlib

HERE = pathlib.Path(__file__).resolve().parent


def pytest_sessionfinish(session):
    cases = {path.stem.removeprefix("test_").removesuffix("_bench")
             for path in {item.path for item in session.items} if path.parent == HERE}  # fmt: skip
    if benchlib.FULL and benchlib.ROWS:
        benchlib.write_results(HERE, cases)
