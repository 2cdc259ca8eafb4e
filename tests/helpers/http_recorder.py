#!/usr/bin/python3
"""A tiny HTTP server on 127.0.0.1 for the monitoring test: it records
each request ("METHOD PATH BODY", one a line) to a file and answers 200,
or 500 for a path containing "broken".  It prints its port, then serves
until killed (the test stops it); it exits by itself after --seconds."""
import argparse
import http.server
import threading


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("--seconds", type=int, default=600)
    a = ap.parse_args()

    class H(http.server.BaseHTTPRequestHandler):
        def answer(self, method):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
            with open(a.log, "a") as f:
                f.write(f"{method} {self.path} {body}".rstrip() + "\n")
            code = 500 if "broken" in self.path else 200
            self.send_response(code)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"OK")

        def do_GET(self):
            self.answer("GET")

        def do_POST(self):
            self.answer("POST")

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    print(srv.server_address[1], flush=True)
    threading.Timer(a.seconds, srv.shutdown).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
