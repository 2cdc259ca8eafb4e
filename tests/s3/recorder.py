#!/usr/bin/python3
"""An S3 endpoint that knows no bucket and records what it is sent.

usage: recorder.py --port-file F --log L

Listens on 127.0.0.1 (a free port, written to F once listening).  Every
request is answered 404 NoSuchBucket, and one JSON line is appended to L:
the method, the path, and every header (name lowercased) with its value.
Standard library only; run it with /usr/bin/python3.
"""
import argparse
import json
import os
import http.server


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        n = int(self.headers.get("content-length") or 0)
        if n:
            self.rfile.read(n)
        with open(self.server.log, "a") as f:
            f.write(json.dumps({
                "method": self.command, "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
            }) + "\n")
        body = (b'<?xml version="1.0" encoding="UTF-8"?><Error>'
                b"<Code>NoSuchBucket</Code><Message>no bucket</Message>"
                b"</Error>")
        self.send_response(404)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = answer

    def log_message(self, *args):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.log = a.log
    with open(a.port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
