"""The load generator: Debian's ``wrk`` driven by a generated Lua script.

Requests may carry placeholders, in the path or the body:

- ``__N__`` a token unique within the run (wrk thread id + per-thread counter),
- ``__R__`` a uniformly random integer in ``[0, spread)``.

A request without placeholders is built once (wrk's fastest path), so the load generator spends
as little of the shared CPU as possible. Every run must end with zero failed requests (non-2xx
answers and socket errors, timeouts included): :func:`wrk` raises :class:`WrkFailure` otherwise.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

CONNECTIONS = 32
THREADS = 2
MIB = 1024 * 1024


class WrkFailure(RuntimeError):
    """A load run had failed requests or wrk itself failed."""


@dataclass
class LoadResult:
    name: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    bytes_read: int
    statuses: dict[int, int] | None = None  # by status code, when the run counted them
    without_retry_after: int = 0  # 429s that lacked a Retry-After header (counted runs)

    @property
    def mib_per_s(self) -> float:
        return self.bytes_read / MIB / self.seconds if self.seconds else 0.0

    @classmethod
    def merge(cls, parts: list[LoadResult]) -> LoadResult:
        """Several runs of one request as one: totals summed, percentiles averaged."""
        seconds = sum(r.seconds for r in parts)
        requests = sum(r.requests for r in parts)
        done = [r for r in parts if r.requests] or parts
        return cls(
            name=parts[0].name,
            requests=requests,
            seconds=seconds,
            rps=requests / seconds if seconds else 0.0,
            p50_ms=sum(r.p50_ms for r in done) / len(done),
            p99_ms=sum(r.p99_ms for r in done) / len(done),
            errors=sum(r.errors for r in parts),
            bytes_read=sum(r.bytes_read for r in parts),
        )

    def row(self) -> str:
        return (f"| {self.name} | {self.rps:,.0f} | {self.p50_ms:.2f} | {self.p99_ms:.2f} | "
                f"{self.errors} |")


_SCRIPT = """
wrk.method = {method}
{headers}
local path_t = {path}
local body_t = {body}
local spread = {spread}
local counter = 0
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
init = function(args)
  math.randomseed(tid * 7919 + os.time())
end
local function fill(t, token)
  if t == nil then return nil end
  t = string.gsub(t, "__N__", token)
  return (string.gsub(t, "__R__", function() return tostring(math.random(0, spread - 1)) end))
end
request = function()
  counter = counter + 1
  local token = tostring(tid) .. "-" .. tostring(counter)
  return wrk.format(nil, fill(path_t, token), nil, fill(body_t, token))
end
"""

_STATIC = """
wrk.method = {method}
{headers}
wrk.body = {body}
"""


_COUNT_STATUSES = """
local every_thread = {}
local old_setup = setup
setup = function(thread)
  table.insert(every_thread, thread)
  if old_setup then old_setup(thread) end
end
statuses = {}
no_retry_after = 0
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 429 and headers["Retry-After"] == nil and headers["retry-after"] == nil then
    no_retry_after = no_retry_after + 1
  end
end
done = function(summary, latency, requests)
  local total, missing = {}, 0
  for _, thread in ipairs(every_thread) do
    for status, n in pairs(thread:get("statuses")) do total[status] = (total[status] or 0) + n end
    missing = missing + thread:get("no_retry_after")
  end
  for status, n in pairs(total) do io.write(string.format("STATUS %d %d\\n", status, n)) end
  io.write(string.format("NO_RETRY_AFTER %d\\n", missing))
end
"""


def _lua_string(text: str | None) -> str:
    if text is None:
        return "nil"
    if "]==]" in text:
        raise ValueError("request text must not contain ']==]'")
    return "[==[" + text + "]==]"


def lua_script(method: str, path: str, body: str | None, headers: dict[str, str],
               spread: int) -> str:
    all_headers = dict(headers)
    if body is not None:
        all_headers.setdefault("Content-Type", "application/json")
    header_lines = "\n".join(
        f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in all_headers.items()
    )
    dynamic = any(mark in text for text in (path, body or "") for mark in ("__N__", "__R__"))
    if not dynamic:
        return _STATIC.format(method=json.dumps(method), headers=header_lines,
                              body=_lua_string(body))
    return _SCRIPT.format(method=json.dumps(method), headers=header_lines,
                          path=_lua_string(path), body=_lua_string(body), spread=spread)


_TIME_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_SIZE_UNITS = {"": 1, "K": 1024, "M": MIB, "G": 1024**3, "T": 1024**4}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not match:
        raise ValueError(f"cannot parse wrk time {text!r}")
    return float(match.group(1)) * _TIME_UNITS[match.group(2)]


def _find(pattern: str, text: str) -> re.Match[str]:
    match = re.search(pattern, text)
    if match is None:
        raise WrkFailure(f"unexpected wrk output (no {pattern!r}):\n{text}")
    return match


def parse(name: str, out: str) -> LoadResult:
    done = _find(r"(\d+) requests in (\S+), ([\d.]+)([KMGT]?)B read", out)
    seconds = _ms(done.group(2)) / 1000
    bytes_read = int(float(done.group(3)) * _SIZE_UNITS[done.group(4)])
    errors = 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        errors += int(non2xx.group(1))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        errors += sum(int(g) for g in sock.groups())
    return LoadResult(
        name=name,
        requests=int(done.group(1)),
        seconds=seconds,
        rps=float(_find(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        p50_ms=_ms(_find(r"(?m)^\s+50%\s+(\S+)\s*$", out).group(1)),
        p99_ms=_ms(_find(r"(?m)^\s+99%\s+(\S+)\s*$", out).group(1)),
        errors=errors,
        bytes_read=bytes_read,
        statuses={int(m[1]): int(m[2]) for m in re.finditer(r"(?m)^STATUS (\d+) (\d+)$", out)}
        or None,
        without_retry_after=sum(int(m) for m in re.findall(r"(?m)^NO_RETRY_AFTER (\d+)$", out)),
    )


def _probe(url: str, method: str, path: str, body: str | None, headers: dict[str, str]) -> str:
    """Send one request like the failing ones, to show what the server answers."""
    import httpx

    def fill(text: str) -> str:
        return text.replace("__N__", "probe").replace("__R__", "0")

    try:
        resp = httpx.request(method, url.rstrip("/") + fill(path), headers=headers,
                             content=fill(body).encode() if body is not None else None,
                             timeout=30)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    return f"{resp.status_code} {resp.text[:300]!r}"


@dataclass
class Spec:
    """One wrk run to start: what :func:`wrk` takes, as a value (for concurrent runs)."""

    name: str
    url: str
    path: str
    method: str = "GET"
    body: str | None = None
    headers: dict[str, str] | None = None
    duration: int = 5
    connections: int = CONNECTIONS
    spread: int = 1000
    timeout_s: int = 10
    threads: int = THREADS
    count_statuses: bool = False  # tally answers by status (non-2xx are then expected)


def _binary() -> str:
    binary = shutil.which("wrk")
    if binary is None:
        from lib import ensure_tool

        binary = ensure_tool("wrk", "wrk")
    return binary


def _start(spec: Spec) -> tuple[subprocess.Popen[str], str]:
    script = lua_script(spec.method, spec.path, spec.body, spec.headers or {}, spec.spread)
    if spec.count_statuses:
        script += _COUNT_STATUSES
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(script)
    target = spec.url.rstrip("/") + (spec.path if "__" not in spec.path else "/")
    proc = subprocess.Popen(
        [_binary(), "-t", str(spec.threads), "-c", str(spec.connections), "-d",
         f"{spec.duration}s", "--timeout", f"{spec.timeout_s}s", "--latency", "-s", fh.name,
         target],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    return proc, fh.name


def _finish(spec: Spec, proc: subprocess.Popen[str], script: str,
            allow_errors: bool) -> LoadResult:
    try:
        stdout, stderr = proc.communicate(timeout=spec.duration + spec.timeout_s + 60)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
    finally:
        os.unlink(script)
    if proc.returncode != 0:
        raise WrkFailure(f"wrk failed on {spec.name}: {stderr or stdout}")
    result = parse(spec.name, stdout)
    if result.errors and not allow_errors:
        probe = _probe(spec.url, spec.method, spec.path, spec.body, spec.headers or {})
        raise WrkFailure(f"{spec.name}: {result.errors} of {result.requests} requests failed\n"
                         f"{stdout}\none such request now: {probe}")
    if result.requests == 0 and result.bytes_read == 0:
        raise WrkFailure(f"{spec.name}: no request completed\n{stdout}")
    return result


def wrk(name: str, url: str, path: str, method: str = "GET", body: str | None = None,
        headers: dict[str, str] | None = None, duration: int = 5,
        connections: int = CONNECTIONS, spread: int = 1000, timeout_s: int = 10,
        allow_errors: bool = False) -> LoadResult:
    """Run wrk against ``url`` + ``path`` for ``duration`` seconds on keep-alive connections."""
    spec = Spec(name, url, path, method, body, headers, duration, connections, spread, timeout_s)
    return _finish(spec, *_start(spec), allow_errors=allow_errors)


def wrk_together(specs: list[Spec]) -> list[LoadResult]:
    """Start every run at once (a mixed load: each request kind on its own connections, so
    each gets its own latency distribution) and wait for all of them."""
    started = [(spec, *_start(spec)) for spec in specs]
    return [
        _finish(spec, proc, script, allow_errors=spec.count_statuses)
        for spec, proc, script in started
    ]
