#!/usr/bin/env python3
"""A stub Kubernetes API server for measuring the operator's idle footprint without a cluster.

It answers every list with an empty list, holds every watch open (no events), and stores Leases
so leader election succeeds. Nothing else. Usage: stub_apiserver.py PORT [REQUEST_LOG]
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

LOG = open(sys.argv[2], "a") if len(sys.argv) > 2 else None
leases = {}
lock = threading.Lock()
rv = [1]


def next_rv():
    with lock:
        rv[0] += 1
        return str(rv[0])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def parse_request(self):
        ok = super().parse_request()
        if ok and LOG is not None:
            with lock:
                LOG.write(f"{self.command} {self.path}\n")
                LOG.flush()
        return ok

    def send_json(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length", "0"))
        return json.loads(self.rfile.read(n) or b"{}")

    def do_GET(self):
        url = urlparse(self.path)
        q = parse_qs(url.query)
        if "leases/" in url.path:
            with lock:
                lease = leases.get(url.path)
            if lease is None:
                return self.send_json(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404})
            return self.send_json(200, lease)
        if q.get("watch") == ["true"]:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            timeout = int(q.get("timeoutSeconds", ["290"])[0])
            time.sleep(timeout)
            self.wfile.write(b"0\r\n\r\n")
            return
        return self.send_json(200, {"kind": "List", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": []})

    def do_POST(self):
        obj = self.body()
        name = obj.get("metadata", {}).get("name", "x")
        obj.setdefault("metadata", {})["resourceVersion"] = next_rv()
        with lock:
            leases[self.path.rstrip("/") + "/" + name] = obj
        self.send_json(201, obj)

    def do_PUT(self):
        obj = self.body()
        obj.setdefault("metadata", {})["resourceVersion"] = next_rv()
        with lock:
            leases[urlparse(self.path).path] = obj
        self.send_json(200, obj)


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
