"""UUIDv7 ids: version and variant bits, time order, and no repeats across threads or forks."""

from __future__ import annotations

import os
import threading
import time
import uuid

import pytest

from service.domain.ids import new_id


def test_version_and_variant() -> None:
    for _ in range(1000):
        made = new_id()
        assert made.version == 7
        assert made.variant == uuid.RFC_4122


def test_timestamp_is_the_creation_millisecond_and_orders_ids() -> None:
    before = time.time_ns() // 1_000_000
    first = new_id()
    time.sleep(0.002)
    second = new_id()
    after = time.time_ns() // 1_000_000
    assert before <= first.int >> 80 <= second.int >> 80 <= after
    assert first < second


def test_no_repeats_across_buffer_refills_and_threads() -> None:
    made: list[uuid.UUID] = []
    lock = threading.Lock()

    def draw() -> None:
        mine = [new_id() for _ in range(5000)]  # several 4 KiB refills per thread
        with lock:
            made.extend(mine)

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(made)) == len(made) == 20_000
    # the random part differs too, not just the clock
    assert len({u.int & ((1 << 62) - 1) for u in made}) == len(made)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_does_not_replay_the_parents_random_bytes() -> None:
    new_id()  # the parent's buffer is filled now
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: send its next ids' random bits, then leave at once
        os.close(read)
        bits = b"".join((new_id().int & ((1 << 62) - 1)).to_bytes(8) for _ in range(50))
        os.write(write, bits)
        os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 4096):
        data += chunk
    os.close(read)
    os.waitpid(pid, 0)
    child = {data[i : i + 8] for i in range(0, len(data), 8)}
    parent = {(new_id().int & ((1 << 62) - 1)).to_bytes(8) for _ in range(50)}
    assert len(child) == 50
    assert not child & parent
