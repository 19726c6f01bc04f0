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


def _drain(s: Scheduler, now: float) -> list[str]:
    handed = []
    while (task := s.next_ready(now)) is not None:
        handed.append(task.nodeid)
    return handed


def test_a_group_s_tests_are_never_in_flight_together_and_go_next_in_line() -> None:
    # --dist loadgroup: a1 and a2 share an account. b and c are free to run beside them.
    s = Scheduler(["a1", "b", "a2", "c"], {}, max_in_flight=4, groups={"a1": "account", "a2": "account"})
    assert _drain(s, 0) == ["a1", "b", "c"]
    assert s.queued == 1 and not s.finished
    s.on_result(s.in_flight["b"], failed=False, request_id="", now=1)
    assert s.next_ready(1) is None  # a free slot, but a2's group is busy
    s.on_result(s.in_flight["a1"], failed=False, request_id="", now=2)
    assert _drain(s, 2) == ["a2"]
    for task in list(s.in_flight.values()):
        s.on_result(task, failed=False, request_id="", now=3)
    assert s.finished


@pytest.mark.parametrize("leave", ["throttle", "infra", "forget"])
def test_every_way_out_of_flight_frees_the_group(leave: str) -> None:
    # A test of the group that left flight without a result (a client error, a stop) held the
    # group for ever before forget(): the run waited on a test that could never start.
    s = Scheduler(["a1", "a2"], {}, max_in_flight=2, groups={"a1": "g", "a2": "g"}, rand=lambda: 0.0)
    first = s.next_ready(0)
    assert first is not None and s.next_ready(0) is None
    if leave == "throttle":
        assert s.on_throttle(first, now=1)
    elif leave == "infra":
        assert s.on_infra_fault(first, "crash", "r", now=1)
    else:
        s.forget(first)
    assert s.next_ready(1) is not None


def test_forgetting_a_test_not_in_flight_leaves_its_group_busy() -> None:
    # The give-up path forgets every test it takes, queued ones too: a queued test of a busy
    # group must not free the group its running sibling holds.
    s = Scheduler(["a1", "a2"], {}, max_in_flight=2, groups={"a1": "g", "a2": "g"})
    assert _drain(s, 0) == ["a1"]
    waiting = s.queued
    s.forget(Scheduler(["a2"], {}, max_in_flight=1).next_ready(0))  # type: ignore[arg-type]  # a2, never in flight here
    assert s.next_ready(0) is None and s.queued == waiting == 1
