"""cubby.end_of_turn: work kept during an event-loop turn runs together at its end."""

from __future__ import annotations

import asyncio
import threading

from cubby.end_of_turn import EndOfTurn


def test_items_run_together_once_per_turn_in_order() -> None:
    batches: list[list[int]] = []
    turns = EndOfTurn[int](batches.append)

    async def run() -> None:
        turns.add(1)
        turns.add(2)
        assert batches == []  # the turn is not over
        await asyncio.sleep(0)
        turns.add(3)
        await asyncio.sleep(0)

    asyncio.run(run())
    assert batches == [[1, 2], [3]]


def test_drain_runs_what_is_kept_now() -> None:
    batches: list[list[str]] = []
    turns = EndOfTurn[str](batches.append)

    async def run() -> None:
        turns.add("a")
        turns.drain()
        assert batches == [["a"]]
        turns.add("b")
        await asyncio.sleep(0)

    asyncio.run(run())
    assert batches == [["a"], ["b"]]


def test_outside_a_loop_an_item_runs_at_once() -> None:
    batches: list[list[int]] = []
    EndOfTurn[int](batches.append).add(7)
    assert batches == [[7]]


def test_a_closed_loops_leftovers_run_with_the_next_loops_turn() -> None:
    batches: list[list[int]] = []
    turns = EndOfTurn[int](batches.append)
    loop = asyncio.new_event_loop()
    loop.call_soon(turns.add, 1)
    loop.call_soon(loop.stop)
    loop.run_forever()  # the turn's end was scheduled, then the loop stopped before it
    loop.close()

    async def later() -> None:
        turns.add(2)
        await asyncio.sleep(0)

    asyncio.run(later())
    assert batches == [[1, 2]]  # kept across the closed loop, run on the next one's turn


def test_each_thread_keeps_its_own_items() -> None:
    batches: list[list[str]] = []
    turns = EndOfTurn[str](batches.append)

    async def run(name: str) -> None:
        turns.add(name)
        await asyncio.sleep(0.05)

    threads = [threading.Thread(target=asyncio.run, args=(run(n),)) for n in ("x", "y")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(batches) == [["x"], ["y"]]
