"""Print each notebook's run time at the end of the suite (the budget is a minute each)."""


def pytest_terminal_summary(terminalreporter):
    from test_notebooks import TIMES  # noqa: E402 (the test module, already imported by pytest)
    if TIMES:
        terminalreporter.write_line("notebook run times: " + ", ".join("%s %.1f s" % kv for kv in TIMES.items()))
