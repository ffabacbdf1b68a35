"""What the benchmarks share: timing a contender on fresh sandbox nodes, and running SLS text."""

import statistics
import time

ROUNDS = 3


def timed(action):
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def median_time(action):
    """Median seconds of action over ROUNDS runs (for pure code: parsers, planners)."""
    return statistics.median(timed(action) for _ in range(ROUNDS))


def run_sls(loaders, text):
    """Apply SLS text in this process (state.template_str); every state must succeed."""
    result = loaders.modules.state.template_str(text)
    failed = [state.comment for state in result if state.result is not True]
    assert not failed, failed[:3]
    return result


def measure(make_node, contender, again=True):
    """
    Median seconds of contender on a fresh node (a first converge) and, with again, of running
    it a second time on the same node (a no-op run), over ROUNDS rounds.
    """
    first, second = [], []
    for _ in range(ROUNDS):
        node = make_node()
        with node.entered():
            first.append(timed(contender))
            if again:
                second.append(timed(contender))
    return statistics.median(first), statistics.median(second) if again else None
