"""Interrupts during a --lambda loop (runner/signals.py): noted, and held back while an answer is reported."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator

import pytest

from lambda_ui.runner import signals


@pytest.fixture
def sigint_as_in_a_terminal() -> Iterator[None]:
    # A background job of a non-interactive shell inherits SIGINT ignored; the client then adds nothing.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def _ctrl_c_and_run_its_handler() -> None:
    os.kill(os.getpid(), signal.SIGINT)
    for _ in range(100_000):  # Python runs the handler between these bytecodes
        pass


def test_a_ctrl_c_lost_in_a_finalizer_is_still_noted(sigint_as_in_a_terminal: None, monkeypatch: pytest.MonkeyPatch) -> None:
    class Finalizer:
        def __del__(self) -> None:
            _ctrl_c_and_run_its_handler()

    lost: list[type[BaseException] | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: lost.append(unraisable.exc_type))  # "Exception ignored in"
    with signals.noting_interrupts() as interrupts:
        Finalizer()
        assert interrupts.arrived()
    assert lost == [KeyboardInterrupt]


def test_a_ctrl_c_while_held_back_comes_once_the_block_has_ended(sigint_as_in_a_terminal: None) -> None:
    done = []
    with signals.noting_interrupts() as interrupts:
        with pytest.raises(KeyboardInterrupt):
            with interrupts.held_back():
                _ctrl_c_and_run_its_handler()
                done.append("the answer is in")
        assert interrupts.arrived()
    assert done == ["the answer is in"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back as found


def test_a_ctrl_c_outside_the_block_is_raised_at_once(sigint_as_in_a_terminal: None) -> None:
    done = []
    with signals.noting_interrupts(), pytest.raises(KeyboardInterrupt):
        _ctrl_c_and_run_its_handler()
        done.append("went on")
    assert done == []
