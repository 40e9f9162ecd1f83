"""An unexpected error in ``syndicate`` is one line on stderr, never a traceback by default (#14).

The real command runs in a subprocess against a real redis-server that holds a value the code
does not expect (a worker heartbeat that is not JSON): ``syndicate status`` fails inside the
storage layer, as any bug or broken environment would.
"""

from __future__ import annotations

from tests.support import ROOT, RedisServer, base_env, run_cli


def broken_heartbeat(redis_server: RedisServer) -> dict[str, str]:
    redis_server.client().set("syn:hb:old-host:1", b"not json")
    return base_env(redis_server.url)


def test_an_unexpected_error_is_one_line_and_exit_1(redis_server: RedisServer) -> None:
    r = run_cli(broken_heartbeat(redis_server), "status")
    assert r.returncode == 1, r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr and 'File "' not in r.stderr
    line = lines[0]
    assert line.startswith("syndicate: error: status failed: JSONDecodeError: ")
    assert "(at worker/storage/" in line  # where in the code it failed
    assert "run with --debug" in line


def test_debug_shows_the_traceback(redis_server: RedisServer) -> None:
    env = broken_heartbeat(redis_server)
    for r in (run_cli(env, "--debug", "status"), run_cli({**env, "SYNDICATE_DEBUG": "1"}, "status")):
        assert r.returncode == 1
        assert r.stderr.startswith("Traceback (most recent call last):"), r.stderr[:500]
        assert "JSONDecodeError" in r.stderr and "worker/storage/" in r.stderr
        assert r.stderr.splitlines()[-1].startswith("syndicate: error: status failed: JSONDecodeError")


def test_a_bad_environment_variable_is_bad_input_exit_2_in_one_line(redis_server: RedisServer) -> None:
    env = base_env(redis_server.url, SYNDICATE_FEED_WINDOW="fifty")
    r = run_cli(env, "normalize", str(ROOT / "tests" / "data" / "rferl-nato-afghan-pullout.txt"))
    assert r.returncode == 2, r.stderr
    assert r.stderr.splitlines() == [
        "syndicate: error: environment: SYNDICATE_FEED_WINDOW='fifty': "
        "Input should be a valid integer, unable to parse string as an integer"
    ]
