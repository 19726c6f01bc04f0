from __future__ import annotations

import pytest

from lambda_ui.runner.scheduler import Scheduler, dispatch_order, list_makespan, lpt_makespan


def test_unknown_first_then_longest_first() -> None:
    order = dispatch_order(["a", "b", "c", "d"], {"a": 1.0, "c": 5.0, "d": 3.0})
    assert [n for n, _ in order] == ["b", "c", "d", "a"]


def test_list_makespan_follows_the_order_given() -> None:
    assert list_makespan([1, 1, 4], 2) == 5  # the 4 s test starts late
    assert lpt_makespan([1, 1, 4], 2) == 4


def test_lpt_makespan() -> None:
    assert lpt_makespan([5, 4, 3, 3, 3], 2) == 10  # the optimum is 9: LPT is within 4/3
    assert lpt_makespan([1, 1, 1], 10) == 1


def test_window_limits_in_flight() -> None:
    s = Scheduler(["a", "b", "c"], {}, max_in_flight=2)
    assert s.next_ready(0).nodeid == "a"
    assert s.next_ready(0).nodeid == "b"
    assert s.next_ready(0) is None
    s.on_result(s.in_flight["a"], failed=False, request_id="r1", now=1)
    assert s.next_ready(1).nodeid == "c"


def test_throttle_halves_window_backs_off_and_is_not_an_attempt() -> None:
    s = Scheduler([f"t{i}" for i in range(8)], {}, max_in_flight=8, rand=lambda: 1.0)
    tasks = [s.next_ready(0) for _ in range(8)]
    assert s.on_throttle(tasks[0], now=0.0, retry_after_s=None)
    assert s.window == 4.0  # min(8, 7 + 1) / 2
    assert tasks[0].attempt == 1 and tasks[0].throttles == 1
    assert s.next_ready(0.1) is None  # window full (7 in flight) and the task waits out its backoff
    for t in tasks[1:7]:
        s.on_result(t, failed=False, request_id="", now=0.2)
    assert s.next_ready(0.2) is None  # still backing off (0.5 s cap at rand=1)
    assert s.next_ready(0.6).nodeid == "t0"


def test_window_grows_back_additively() -> None:
    s = Scheduler([f"t{i}" for i in range(100)], {}, max_in_flight=10, rand=lambda: 0.0)
    t = s.next_ready(0)
    s.on_throttle(t, now=0)
    assert s.window == 1.0
    for i in range(10):
        task = s.next_ready(float(i))
        assert task is not None
        s.on_result(task, failed=False, request_id="", now=float(i))
    assert 4.0 < s.window <= 5.0  # ~sqrt(2n) after n successes, well below the cap


def test_throttle_budget_gives_up() -> None:
    s = Scheduler(["a"], {}, max_in_flight=1, throttle_budget_s=10, now=0)
    a = s.next_ready(0)
    assert s.on_throttle(a, now=5)
    a = s.next_ready(100)
    assert not s.on_throttle(a, now=100)
    assert s.drain_queue() == [] and s.finished  # the caller reports "a" itself


@pytest.mark.parametrize("fatal", [False, True])
def test_infra_retries_are_bounded(fatal: bool) -> None:
    s = Scheduler(["a"], {}, max_in_flight=1, infra_retries=2)
    outcomes = []
    for i in range(3):
        task = s.next_ready(float(i))
        if task is None:
            break
        outcomes.append(s.on_infra_fault(task, f"crash {i}", f"req{i}", now=float(i), fatal=fatal))
    assert outcomes == ([False] if fatal else [True, True, False])
    assert s.finished


def test_reruns_are_separate_from_infra_retries() -> None:
    s = Scheduler(["a"], {}, max_in_flight=1, infra_retries=1, reruns=1)
    task = s.next_ready(0)
    assert s.on_infra_fault(task, "crash", "r1", now=0)
    task = s.next_ready(0)
    assert task.attempt == 2
    assert s.on_result(task, failed=True, request_id="r2", now=1)
    task = s.next_ready(1)
    assert task.attempt == 3 and task.reruns == 1
    assert not s.on_result(task, failed=True, request_id="r3", now=2)
    assert task.request_ids == ["r1", "r2", "r3"] and s.finished


def test_peak_counts_what_lambda_ran_not_what_it_throttled() -> None:
    s = Scheduler([f"t{i}" for i in range(4)], {}, max_in_flight=4, rand=lambda: 0.0)
    tasks = [s.next_ready(0.0) for _ in range(4)]
    assert all(t is not None for t in tasks)
    a, b, c, d = tasks
    assert a and b and c and d
    s.on_throttle(c, 0.1)  # in flight here, but never ran
    s.on_throttle(d, 0.1)
    s.on_result(a, failed=False, request_id="r1", now=1.0)
    s.on_result(b, failed=False, request_id="r2", now=1.0)
    c2, d2 = s.next_ready(1.5), s.next_ready(1.5)
    assert c2 and d2
    s.on_result(c2, failed=False, request_id="r3", now=2.0)
    s.on_result(d2, failed=False, request_id="r4", now=2.0)
    assert s.peak_in_flight == 2  # 4 requests were in flight at t=0; two of them were throttled
