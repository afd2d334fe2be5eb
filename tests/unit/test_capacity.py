"""How many connections a web process takes on (core/capacity.py)."""

from core.capacity import FD_RESERVE, body_deadline, connection_limit, fd_target

INFINITY = -1


def test_the_soft_fd_limit_is_raised_to_the_hard_one():
    assert fd_target(1024, 20_000, INFINITY) == 20_000
    assert fd_target(1024, INFINITY, INFINITY) == 65_536
    assert fd_target(30_000, 20_000, INFINITY) == 30_000  # never lowered


def test_the_connection_limit_fits_the_file_descriptors():
    assert connection_limit(5000, 20_000, 94) == 5000
    assert connection_limit(5000, 1024, 94) == 1024 - 94 - FD_RESERVE
    assert connection_limit(5000, 100, 94) == 1


def test_a_long_body_gets_time_for_its_length():
    assert body_deadline(None, 30, 100_000) == 30
    assert body_deadline(25_000_000, 30, 100_000) == 280
    assert body_deadline(1000, 30, 0) == 30
