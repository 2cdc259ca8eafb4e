#!/usr/bin/python3
"""Fault-injecting reverse HTTP/1.1 proxy for S3 integration tests.

    faultproxy.py --listen-port P --upstream http://127.0.0.1:Q
                  [--port-file F] [--pid-file F] [--log F] [-v]
                  [--tls-cert CERT.pem --tls-key KEY.pem]

Listens on 127.0.0.1:P (P = 0: a free port, written to --port-file; with
--tls-cert/--tls-key it speaks HTTPS to its clients) and
forwards every request byte for byte -- request line, headers (Host
included, so SigV4 signatures stay valid) and body, streamed -- to the
upstream server over a kept-alive connection, and relays the response the
same way. Clients may keep their connection alive.

Faults are configured at run time through a control endpoint on the same
port, which is never forwarded:

    POST /__fault__  {"rate": 0.3, "kinds": ["500", "reset"], "methods": ["PUT"],
                      "seed": 1, "stall_seconds": 20, "delay_seconds": 0.5}
    GET  /__fault__  -> counters and the active configuration, as JSON

A POST replaces the whole configuration (absent fields take their defaults)
and restarts the "every" sequence; {"rate": 0} switches faults off. See
README.md beside this file for every field and kind.

Whatever the configuration, the body of every PUT and POST that has one is
checked against its Content-MD5 header as it arrives from the client; the
counters say how many were checked, missing or wrong.

Standard library only; run it with /usr/bin/python3.
"""

import argparse
import base64
import hashlib
import json
import os
import random
import re
import select
import ssl
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
import urllib.parse
from email.utils import formatdate

CONTROL_PATH = "/__fault__"
KINDS = ("500", "503slowdown", "429", "reset", "stall", "truncate", "delay",
         "corrupt", "redirect")
# "redirect" answers 307 to this path on the proxy itself; a client that
# follows it is counted (redirects_followed) and answered 404.
REDIRECTED_PATH = "/__redirected__"
MD5_FAILURES_KEPT = 20
BUF = 64 * 1024
MAX_HEAD = 64 * 1024

ERRORS = {
    "500": (500, "Internal Server Error", "InternalError",
            "We encountered an internal error. Please try again."),
    "503slowdown": (503, "Slow Down", "SlowDown",
                    "Please reduce your request rate."),
    "429": (429, "Too Many Requests", "TooManyRequests",
            "Please reduce your request rate."),
}


class ClientGone(Exception):
    """The client closed its connection or sent something unusable."""


class UpstreamError(Exception):
    """The upstream server could not be reached or broke the exchange."""


# ----------------------------------------------------------------- state --

class FaultState:
    DEFAULTS = {
        "rate": 0.0,            # probability of a fault for a matching request
        "every": 0,             # >0: fault every Nth matching request instead
        "from": 0,              # >0: fault every matching request from the
                                #     Nth on (a crash before the Nth write)
        "kinds": ["500"],       # chosen at random (rate) or in turn (every)
        "methods": None,        # None: all methods
        "path": None,           # regex searched in the request target
        "seed": None,
        "stall_seconds": 20.0,
        "delay_seconds": 0.5,
        "max_faults": 0,        # >0: stop injecting after this many faults
        "truncate_bytes": None, # body bytes sent by "truncate" (default: half)
    }

    def __init__(self):
        self.lock = threading.Lock()
        self.config = dict(self.DEFAULTS)
        self.rng = random.Random()
        self.path_re = None
        self.matched_seq = 0    # matching requests since the last POST
        self.faults_seq = 0     # faults since the last POST
        self.reset_counters()

    def reset_counters(self):
        self.counters = {
            "requests": 0,          # requests seen (the control endpoint excluded)
            "matched": 0,           # requests matching methods/path
            "forwarded": 0,         # requests sent upstream (delay/truncate included)
            "faults": {k: 0 for k in KINDS},
            "faults_total": 0,
            "upstream_errors": 0,   # 502 answered: upstream unreachable or broken
            "client_errors": 0,     # client vanished or sent garbage mid-request
            "connections": 0,
            "redirects_followed": 0, # requests for a "redirect" Location
            # Content-MD5 of PUT/POST bodies, as the client sent them:
            "md5_checked": 0,       # bodies checked (Content-Length framed)
            "md5_missing": 0,       # ... without a Content-MD5 header
            "md5_wrong": 0,         # ... whose header does not match the body
            "md5_unchecked": 0,     # chunked bodies (not checked)
            "md5_failures": [],     # "METHOD TARGET: missing|wrong" (first 20)
            # What the server answered to bodies the "corrupt" fault damaged:
            "corrupt_refused": 0,   # 4xx/5xx: the server saw the damage
            "corrupt_accepted": 0,  # 2xx: stored damaged bytes (a failure)
            "corrupt_codes": {},    # S3 error code -> count
        }

    def configure(self, body):
        cfg = dict(self.DEFAULTS)
        if not isinstance(body, dict):
            raise ValueError("body must be a JSON object")
        unknown = set(body) - set(cfg) - {"reset_counters"}
        if unknown:
            raise ValueError("unknown field(s): %s" % ", ".join(sorted(unknown)))
        cfg.update({k: v for k, v in body.items() if k != "reset_counters"})
        rate = float(cfg["rate"])
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be within 0..1")
        cfg["rate"] = rate
        cfg["every"] = int(cfg["every"] or 0)
        if cfg["every"] < 0:
            raise ValueError("every must be >= 0")
        cfg["from"] = int(cfg["from"] or 0)
        if cfg["from"] < 0:
            raise ValueError("from must be >= 0")
        kinds = cfg["kinds"]
        if isinstance(kinds, str):
            kinds = [kinds]
        if not isinstance(kinds, list) or not kinds:
            raise ValueError("kinds must be a non-empty list")
        kinds = [str(k) for k in kinds]
        bad = [k for k in kinds if k not in KINDS]
        if bad:
            raise ValueError("unknown kind(s) %s; known: %s" % (bad, list(KINDS)))
        cfg["kinds"] = kinds
        if cfg["methods"] is not None:
            if isinstance(cfg["methods"], str):
                cfg["methods"] = [cfg["methods"]]
            cfg["methods"] = [str(m).upper() for m in cfg["methods"]]
        path_re = re.compile(cfg["path"]) if cfg["path"] else None
        cfg["stall_seconds"] = float(cfg["stall_seconds"])
        cfg["delay_seconds"] = float(cfg["delay_seconds"])
        cfg["max_faults"] = int(cfg["max_faults"] or 0)
        if cfg["truncate_bytes"] is not None:
            cfg["truncate_bytes"] = max(0, int(cfg["truncate_bytes"]))
        with self.lock:
            self.config = cfg
            self.path_re = path_re
            self.rng = random.Random(cfg["seed"])
            self.matched_seq = 0
            self.faults_seq = 0
            if body.get("reset_counters"):
                self.reset_counters()
        return cfg

    def decide(self, method, target):
        """Count a request; return (fault kind or None, config snapshot)."""
        with self.lock:
            cfg = self.config
            self.counters["requests"] += 1
            if cfg["methods"] is not None and method not in cfg["methods"]:
                return None, cfg
            if self.path_re is not None and not self.path_re.search(target):
                return None, cfg
            self.counters["matched"] += 1
            self.matched_seq += 1
            if cfg["max_faults"] and self.faults_seq >= cfg["max_faults"]:
                return None, cfg
            if cfg["from"] > 0:
                if self.matched_seq < cfg["from"]:
                    return None, cfg
                kind = cfg["kinds"][self.faults_seq % len(cfg["kinds"])]
            elif cfg["every"] > 0:
                if self.matched_seq % cfg["every"]:
                    return None, cfg
                kind = cfg["kinds"][self.faults_seq % len(cfg["kinds"])]
            elif cfg["rate"] > 0 and self.rng.random() < cfg["rate"]:
                kind = self.rng.choice(cfg["kinds"])
            else:
                return None, cfg
            self.faults_seq += 1
            self.counters["faults"][kind] += 1
            self.counters["faults_total"] += 1
            return kind, cfg

    def count(self, name):
        with self.lock:
            self.counters[name] += 1

    def md5_result(self, method, target, header, digest):
        """Count one body's Content-MD5 check (digest: the body's MD5)."""
        with self.lock:
            c = self.counters
            c["md5_checked"] += 1
            verdict = None
            if header is None:
                c["md5_missing"] += 1
                verdict = "missing"
            elif header.strip() != base64.b64encode(digest).decode():
                c["md5_wrong"] += 1
                verdict = "wrong"
            if verdict and len(c["md5_failures"]) < MD5_FAILURES_KEPT:
                c["md5_failures"].append("%s %s: %s" % (method, target, verdict))

    def corrupt_result(self, status, code):
        with self.lock:
            c = self.counters
            if 200 <= status < 300:
                c["corrupt_accepted"] += 1
            else:
                c["corrupt_refused"] += 1
                key = code or str(status)
                c["corrupt_codes"][key] = c["corrupt_codes"].get(key, 0) + 1

    def snapshot(self):
        with self.lock:
            snap = json.loads(json.dumps(self.counters))
            snap["config"] = dict(self.config)
        return snap


# ------------------------------------------------------------ HTTP bits --

class Head:
    """A request or response head: the raw bytes plus what we need of it."""

    def __init__(self, raw, start, headers):
        self.raw = raw              # exact bytes, CRLFs included
        self.start = start          # first line, decoded
        self.headers = headers      # [(lower-case name, value)]

    def get(self, name):
        for k, v in self.headers:
            if k == name:
                return v
        return None

    def tokens(self, name):
        out = set()
        for k, v in self.headers:
            if k == name:
                out.update(t.strip().lower() for t in v.split(","))
        return out


def read_head(rfile, allow_eof=False):
    """Read a head up to the empty line. None on a clean EOF before it starts."""
    lines = []
    size = 0
    while True:
        line = rfile.readline(MAX_HEAD + 1)
        if not line:
            if not lines and allow_eof:
                return None
            raise EOFError("connection closed inside a message head")
        if not lines and line in (b"\r\n", b"\n"):
            continue  # tolerate stray CRLF between messages (RFC 9112 2.2)
        size += len(line)
        if size > MAX_HEAD:
            raise ValueError("message head too large")
        lines.append(line)
        if line in (b"\r\n", b"\n"):
            break
    raw = b"".join(lines)
    start = lines[0].decode("latin-1").rstrip("\r\n")
    headers = []
    for line in lines[1:-1]:
        text = line.decode("latin-1").rstrip("\r\n")
        if text[:1] in (" ", "\t") and headers:  # obsolete line folding
            k, v = headers[-1]
            headers[-1] = (k, v + " " + text.strip())
            continue
        name, sep, value = text.partition(":")
        if not sep:
            raise ValueError("bad header line %r" % text)
        headers.append((name.strip().lower(), value.strip()))
    return Head(raw, start, headers)


def body_framing(head, is_request, method=None, status=None):
    """('none'|'length'|'chunked'|'close', length)."""
    if not is_request:
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return "none", 0
    if "chunked" in head.tokens("transfer-encoding"):
        return "chunked", 0
    cl = head.get("content-length")
    if cl is not None:
        try:
            n = int(cl.split(",")[0].strip())
        except ValueError:
            raise ValueError("bad Content-Length %r" % cl)
        if n < 0:
            raise ValueError("negative Content-Length")
        return ("length", n) if n else ("none", 0)
    return ("none", 0) if is_request else ("close", 0)


def copy_exact(rfile, n, write):
    while n > 0:
        chunk = rfile.read(min(BUF, n))
        if not chunk:
            raise EOFError("connection closed with %d body bytes missing" % n)
        if write:
            write(chunk)
        n -= len(chunk)


def copy_body(rfile, framing, length, write, limit=None):
    """Copy a body, raw (chunk framing included). write may be None (discard).

    limit: stop after this many bytes were written (for truncate); returns the
    number of bytes written."""
    sent = [0]

    class Stop(Exception):
        pass

    def out(data):
        if write is None:
            return
        if limit is not None:
            room = limit - sent[0]
            if room <= 0:
                raise Stop()
            if len(data) > room:
                write(data[:room])
                sent[0] += room
                raise Stop()
        write(data)
        sent[0] += len(data)

    try:
        if framing == "length":
            copy_exact(rfile, length, out)
        elif framing == "chunked":
            while True:
                line = rfile.readline(4096)
                if not line.endswith(b"\n"):
                    raise EOFError("bad or missing chunk size line")
                out(line)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while True:  # trailers up to the empty line
                        t = rfile.readline(MAX_HEAD)
                        if not t:
                            raise EOFError("connection closed in chunk trailer")
                        out(t)
                        if t in (b"\r\n", b"\n"):
                            break
                    break
                copy_exact(rfile, size, out)
                crlf = rfile.readline(3)
                if crlf not in (b"\r\n", b"\n"):
                    raise ValueError("chunk not followed by CRLF")
                out(crlf)
        elif framing == "close":
            while True:
                chunk = rfile.read1(BUF) if hasattr(rfile, "read1") else rfile.read(BUF)
                if not chunk:
                    break
                out(chunk)
    except Stop:
        pass
    return sent[0]


def error_response(kind, method, target, keep_alive, reqid):
    status, reason, code, msg = ERRORS[kind]
    resource = urllib.parse.urlsplit(target).path or "/"
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            "<Error><Code>%s</Code><Message>%s</Message>"
            "<Resource>%s</Resource><RequestId>%s</RequestId></Error>"
            % (code, msg, xml_escape(resource), reqid)).encode()
    if method == "HEAD":
        body = b""
    head = ("HTTP/1.1 %d %s\r\n"
            "Date: %s\r\n"
            "Server: faultproxy\r\n"
            "x-amz-request-id: %s\r\n"
            "Content-Type: application/xml\r\n"
            "Content-Length: %d\r\n"
            "Connection: %s\r\n\r\n"
            % (status, reason, formatdate(usegmt=True), reqid, len(body),
               "keep-alive" if keep_alive else "close")).encode()
    return head + body


def xml_escape(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def simple_response(status, reason, body, ctype="application/json",
                    keep_alive=True):
    head = ("HTTP/1.1 %d %s\r\nDate: %s\r\nServer: faultproxy\r\n"
            "Content-Type: %s\r\nContent-Length: %d\r\nConnection: %s\r\n\r\n"
            % (status, reason, formatdate(usegmt=True), ctype, len(body),
               "keep-alive" if keep_alive else "close")).encode()
    return head + body


# ---------------------------------------------------------------- server --

class Upstream:
    """One kept-alive connection to the upstream server."""

    def __init__(self, host, port, timeout):
        self.host, self.port, self.timeout = host, port, timeout
        self.sock = None
        self.rfile = None

    def usable(self):
        if self.sock is None:
            return False
        # A kept-alive connection that became readable while idle has been
        # closed (or is broken) by the server: do not reuse it.
        try:
            r, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return not r

    def connect(self):
        self.close()
        try:
            self.sock = socket.create_connection((self.host, self.port),
                                                 timeout=self.timeout)
        except OSError as e:
            self.sock = None
            raise UpstreamError("cannot connect to upstream %s:%d: %s"
                                % (self.host, self.port, e))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile = self.sock.makefile("rb", buffering=BUF)

    def ensure(self):
        if not self.usable():
            self.connect()

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        if self.rfile is not None:
            try:
                self.rfile.close()
            except OSError:
                pass
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = self.rfile = None


class Handler(socketserver.BaseRequestHandler):
    server: "ProxyServer"

    def log(self, msg, verbose=False):
        if verbose and not self.server.verbose:
            return
        self.server.log("%s %s" % (self.client_address[1], msg))

    def send_client(self, data):
        self.request.sendall(data)

    def handle(self):
        if self.server.tls is not None:
            try:
                self.request = self.server.tls.wrap_socket(
                    self.request, server_side=True)
            except (ssl.SSLError, OSError) as e:
                self.server.state.count("client_errors")
                self.server.log("%s TLS handshake failed: %s"
                                % (self.client_address[1], e))
                return
        sock = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(self.server.client_timeout)
        self.rfile = sock.makefile("rb", buffering=BUF)
        self.upstream = Upstream(self.server.up_host, self.server.up_port,
                                 self.server.upstream_timeout)
        self.server.state.count("connections")
        self.closed = False
        try:
            while not self.closed:
                if not self.one_exchange():
                    break
        except (ClientGone, EOFError, ConnectionError, socket.timeout, OSError) as e:
            self.log("connection ended: %s" % e, verbose=True)
        except ValueError as e:
            self.log("bad request: %s" % e)
            try:
                self.send_client(simple_response(400, "Bad Request",
                                                 str(e).encode(), "text/plain",
                                                 keep_alive=False))
            except OSError:
                pass
        finally:
            self.upstream.close()
            self.close_client()

    def close_client(self, reset=False):
        if self.closed:
            return
        self.closed = True
        try:
            self.rfile.close()
        except OSError:
            pass
        if reset:
            # SO_LINGER {on, 0}: close() sends RST instead of FIN.
            try:
                self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                        struct.pack("ii", 1, 0))
            except OSError:
                pass
        else:
            try:
                self.request.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        try:
            self.request.close()
        except OSError:
            pass

    def lingering_close(self, seconds=2.0):
        """Close after draining what the client still sends (so that a final
        response sent before the whole request body arrived is not destroyed
        by the RST that closing with unread data would cause)."""
        if self.closed:
            return
        try:
            self.request.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + seconds
            # Bytes already in rfile's buffer are simply dropped.
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                r, _, _ = select.select([self.request], [], [], left)
                if not r or not self.request.recv(BUF):
                    break
        except OSError:
            pass
        self.close_client()

    # -- one request/response --------------------------------------------

    def one_exchange(self):
        try:
            req = read_head(self.rfile, allow_eof=True)
        except EOFError:
            return False
        if req is None:
            return False
        parts = req.start.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise ValueError("bad request line %r" % req.start)
        method, target, version = parts
        framing, length = body_framing(req, True)
        conn_tokens = req.tokens("connection")
        client_keep = ("close" not in conn_tokens
                       and (version != "HTTP/1.0" or "keep-alive" in conn_tokens))
        expect100 = ("100-continue" in req.tokens("expect")
                     and version != "HTTP/1.0" and framing != "none")

        if urllib.parse.urlsplit(target).path == CONTROL_PATH:
            return self.control(method, req, framing, length, client_keep, expect100)

        if urllib.parse.urlsplit(target).path.startswith(REDIRECTED_PATH):
            self.server.state.count("redirects_followed")
            self.log("%s %s: a redirect was followed" % (method, target))
            self.consume_body(framing, length, expect100)
            self.send_client(simple_response(404, "Not Found", b"{}",
                                             keep_alive=client_keep))
            return client_keep

        kind, cfg = self.server.state.decide(method, target)
        reqid = "FAULTPROXY%010d" % self.server.next_id()
        self.md5 = None
        if method in ("PUT", "POST") and framing != "none":
            if framing == "length":
                self.md5 = (hashlib.md5(), method, target,
                            req.get("content-md5"))
            else:
                self.server.state.count("md5_unchecked")
        if kind is not None:
            self.log("%s %s -> fault %s" % (method, target, kind))
        else:
            self.log("%s %s" % (method, target), verbose=True)

        if kind in ("500", "503slowdown", "429"):
            self.consume_body(framing, length, expect100)
            self.md5_done()
            self.send_client(error_response(kind, method, target, client_keep, reqid))
            return client_keep
        if kind == "redirect":
            self.consume_body(framing, length, expect100)
            self.md5_done()
            loc = "http://%s%s%s" % (req.get("host") or "127.0.0.1",
                                     REDIRECTED_PATH, target)
            self.send_client(("HTTP/1.1 307 Temporary Redirect\r\n"
                              "Date: %s\r\nServer: faultproxy\r\n"
                              "Location: %s\r\nContent-Length: 0\r\n"
                              "Connection: %s\r\n\r\n"
                              % (formatdate(usegmt=True), loc,
                                 "keep-alive" if client_keep else "close")
                              ).encode())
            return client_keep
        if kind == "reset":
            self.consume_body(framing, length, expect100)
            self.md5_done()
            self.close_client(reset=True)
            return False
        if kind == "stall":
            self.stall(cfg["stall_seconds"])
            return False
        if kind == "delay":
            time.sleep(cfg["delay_seconds"])
        return self.forward(method, req, framing, length, expect100, client_keep,
                            truncate=(kind == "truncate"),
                            truncate_bytes=cfg["truncate_bytes"],
                            corrupt=(kind == "corrupt"))

    def md5_feed(self, data):
        if self.md5 is not None:
            self.md5[0].update(data)

    def md5_done(self):
        """The whole body went by: count its Content-MD5 check."""
        if self.md5 is not None:
            h, method, target, header = self.md5
            self.md5 = None
            self.server.state.md5_result(method, target, header, h.digest())

    def consume_body(self, framing, length, expect100):
        """Read (and drop) the request body, as a server that received it."""
        if framing == "none":
            return
        if expect100:
            self.send_client(b"HTTP/1.1 100 Continue\r\n\r\n")
        try:
            copy_body(self.rfile, framing, length, self.md5_feed)
        except (EOFError, ValueError) as e:
            self.server.state.count("client_errors")
            raise ClientGone("while reading request body: %s" % e)

    def stall(self, seconds):
        """Send nothing for `seconds`; read and drop whatever arrives; then
        close. Ends early when the client gives up and closes."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                r, _, _ = select.select([self.request], [], [], min(left, 1.0))
                if r and not self.request.recv(BUF):
                    self.log("stall: client closed", verbose=True)
                    break
            except OSError:
                break
        self.close_client()

    def control(self, method, req, framing, length, client_keep, expect100):
        body = b""
        if framing != "none":
            if expect100:
                self.send_client(b"HTTP/1.1 100 Continue\r\n\r\n")
            chunks = []
            copy_body(self.rfile, framing, length, chunks.append)
            body = b"".join(chunks)
            if framing == "chunked":  # decode for JSON; only tiny bodies here
                body = dechunk(body)
        state = self.server.state
        if method == "GET" or method == "HEAD":
            out = json.dumps(state.snapshot(), indent=1).encode() + b"\n"
            if method == "HEAD":
                out = b""
            self.send_client(simple_response(200, "OK", out, keep_alive=client_keep))
        elif method == "POST" or method == "PUT":
            try:
                cfg = state.configure(json.loads(body.decode() or "{}"))
            except (ValueError, TypeError, re.error) as e:
                self.send_client(simple_response(
                    400, "Bad Request",
                    json.dumps({"error": str(e)}).encode() + b"\n",
                    keep_alive=client_keep))
                return client_keep
            self.log("fault config: %s" % json.dumps(cfg))
            out = json.dumps(state.snapshot(), indent=1).encode() + b"\n"
            self.send_client(simple_response(200, "OK", out, keep_alive=client_keep))
        else:
            self.send_client(simple_response(405, "Method Not Allowed",
                                             b'{"error": "use GET or POST"}\n',
                                             keep_alive=client_keep))
        return client_keep

    def bad_gateway(self, msg):
        self.server.state.count("upstream_errors")
        self.log("upstream error: %s" % msg)
        try:
            self.send_client(simple_response(502, "Bad Gateway",
                                             (msg + "\n").encode(), "text/plain",
                                             keep_alive=False))
        except OSError:
            pass
        self.lingering_close()
        return False

    def forward(self, method, req, framing, length, expect100, client_keep,
                truncate=False, truncate_bytes=None, corrupt=False):
        up = self.upstream
        # "corrupt": one bit of the body's middle byte flipped on the way, as
        # a faulty link or middlebox might; the length stays the same.
        flip_at = length // 2 if corrupt and framing == "length" else None
        seen = [0]

        def to_upstream(data):
            self.md5_feed(data)
            if flip_at is not None and seen[0] <= flip_at < seen[0] + len(data):
                i = flip_at - seen[0]
                data = data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1:]
                self.log("corrupt: %s %s: flipped body byte %d"
                         % (method, req.start.split(" ")[1], flip_at))
            seen[0] += len(data)
            up.send(data)

        # Send the head; a stale kept-alive connection gets one fresh retry.
        for attempt in (1, 2):
            try:
                up.ensure()
                up.send(req.raw)
                break
            except UpstreamError as e:
                return self.bad_gateway(str(e))
            except OSError as e:
                up.close()
                if attempt == 2:
                    return self.bad_gateway("sending to upstream: %s" % e)
        self.server.state.count("forwarded")

        resp = None
        if expect100:
            # Transparent Expect: wait for the upstream's verdict on the head.
            try:
                resp = self.read_upstream_head()
            except UpstreamError as e:
                return self.bad_gateway(str(e))
            status = self.status_of(resp)
            if status == 100:
                self.send_client(resp.raw)
                resp = None
            # else: a final answer (e.g. 403) before the body: relay it below,
            # then close, as the client may or may not send the body now.
        body_sent = False
        if resp is None:
            try:
                copy_body(self.rfile, framing, length, to_upstream)
                body_sent = True
                self.md5_done()
            except (EOFError, ValueError) as e:
                self.server.state.count("client_errors")
                up.close()
                raise ClientGone("while reading request body: %s" % e)
            except OSError as e:
                # Upstream went away while we sent the body; it may still have
                # answered (e.g. an early error): try to read that.
                self.log("upstream write failed: %s" % e, verbose=True)
            try:
                resp = self.read_upstream_head(skip_continue=True)
            except UpstreamError as e:
                return self.bad_gateway(str(e))
        else:
            body_sent = framing == "none"

        status = self.status_of(resp)
        rframing, rlength = body_framing(resp, False, method, status)
        up_keep = "close" not in resp.tokens("connection") and rframing != "close"

        if truncate:
            self.send_client(resp.raw)
            if rframing == "length":
                limit = rlength // 2 if truncate_bytes is None else min(truncate_bytes, rlength - 1)
            elif rframing == "none":
                limit = 0
            else:
                limit = 512 if truncate_bytes is None else truncate_bytes
            sent = 0
            if rframing != "none" and limit > 0:
                try:
                    sent = copy_body(up.rfile, rframing, rlength, self.send_client,
                                     limit=limit)
                except (EOFError, ValueError, OSError) as e:
                    self.log("truncate: upstream body: %s" % e, verbose=True)
            self.log("truncate: %s %s sent head + %d body bytes, then closed"
                     % (method, resp.start, sent), verbose=True)
            up.close()
            self.close_client()
            return False

        self.send_client(resp.raw)
        captured = []

        damaged = flip_at is not None and body_sent

        def to_client(data):
            if damaged and sum(len(c) for c in captured) < MAX_HEAD:
                captured.append(data)
            self.send_client(data)
        try:
            copy_body(up.rfile, rframing, rlength, to_client)
            if damaged:
                m = re.search(rb"<Code>([^<]{1,64})</Code>", b"".join(captured))
                self.server.state.corrupt_result(
                    status, m.group(1).decode("latin-1") if m else "")
        except (EOFError, ValueError) as e:
            # Upstream broke mid-body: the client sees a short body and a close.
            self.server.state.count("upstream_errors")
            self.log("upstream body broken: %s" % e)
            up.close()
            self.close_client()
            return False
        if not up_keep:
            up.close()
        if not body_sent:
            self.lingering_close()
            return False
        if not client_keep:
            return False
        if "close" in resp.tokens("connection") or rframing == "close":
            return False
        return True

    def read_upstream_head(self, skip_continue=False):
        up = self.upstream
        while True:
            try:
                resp = read_head(up.rfile)
            except (EOFError, ValueError, OSError) as e:
                up.close()
                raise UpstreamError("reading upstream response: %s" % e)
            st = self.status_of(resp)
            if st is None:
                up.close()
                raise UpstreamError("bad upstream status line %r" % resp.start)
            if 100 <= st < 200 and st != 101:
                if skip_continue or st != 100:
                    # An interim response we do not need to relay:
                    # 100 after the body was sent, or 102/103.
                    if st != 100:
                        self.send_client(resp.raw)
                    continue
            return resp

    @staticmethod
    def status_of(resp):
        parts = resp.start.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            return None
        try:
            return int(parts[1])
        except ValueError:
            return None


def dechunk(raw):
    out = []
    i = 0
    while True:
        j = raw.index(b"\n", i)
        size = int(raw[i:j].split(b";")[0].strip() or b"0", 16)
        i = j + 1
        if size == 0:
            return b"".join(out)
        out.append(raw[i:i + size])
        i += size
        i = raw.index(b"\n", i) + 1


class ProxyServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, up_host, up_port, state, client_timeout,
                 upstream_timeout, verbose, logf, tls=None):
        super().__init__(addr, Handler)
        self.tls = tls
        self.up_host, self.up_port = up_host, up_port
        self.state = state
        self.client_timeout = client_timeout
        self.upstream_timeout = upstream_timeout
        self.verbose = verbose
        self.logf = logf
        self._id = 0
        self._id_lock = threading.Lock()
        self._log_lock = threading.Lock()

    def next_id(self):
        with self._id_lock:
            self._id += 1
            return self._id

    def log(self, msg):
        line = "%s faultproxy: %s\n" % (time.strftime("%H:%M:%S"), msg)
        with self._log_lock:
            try:
                self.logf.write(line)
                self.logf.flush()
            except (OSError, ValueError):
                pass


def write_atomic(path, text):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen-port", type=int, required=True,
                    help="port on 127.0.0.1; 0 picks a free one")
    ap.add_argument("--upstream", required=True, help="http://HOST:PORT")
    ap.add_argument("--port-file", help="write the listening port here")
    ap.add_argument("--pid-file", help="write the pid here")
    ap.add_argument("--log", help="log file (default: stderr)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="log every request, not only faults and errors")
    ap.add_argument("--client-timeout", type=float, default=300.0,
                    help="idle seconds before a client connection is dropped")
    ap.add_argument("--upstream-timeout", type=float, default=300.0,
                    help="seconds to wait on the upstream server")
    ap.add_argument("--config", help="initial fault configuration (JSON)")
    ap.add_argument("--tls-cert", help="serve HTTPS with this certificate")
    ap.add_argument("--tls-key", help="... and this private key")
    args = ap.parse_args()
    tls = None
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    if args.tls_cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.tls_cert, args.tls_key)

    u = urllib.parse.urlsplit(args.upstream)
    if u.scheme != "http" or not u.hostname:
        ap.error("--upstream must be http://HOST:PORT")
    up_port = u.port or 80
    logf = open(args.log, "a") if args.log else sys.stderr

    state = FaultState()
    if args.config:
        try:
            state.configure(json.loads(args.config))
        except (ValueError, TypeError, re.error) as e:
            ap.error("--config: %s" % e)

    server = ProxyServer(("127.0.0.1", args.listen_port), u.hostname, up_port,
                         state, args.client_timeout, args.upstream_timeout,
                         args.verbose, logf, tls)
    port = server.server_address[1]
    pid = os.getpid()

    def on_term(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    if args.pid_file:
        write_atomic(args.pid_file, "%d\n" % pid)
    if args.port_file:
        write_atomic(args.port_file, "%d\n" % port)
    server.log("listening on 127.0.0.1:%d, upstream %s:%d, pid %d"
               % (port, u.hostname, up_port, pid))
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        if args.pid_file:
            try:
                with open(args.pid_file) as f:
                    if f.read().strip() == str(pid):
                        os.unlink(args.pid_file)
            except OSError:
                pass
        server.log("stopped")


if __name__ == "__main__":
    main()
