#!/usr/bin/env python3
"""Serves JSON pages for the HTTP source tests: GET /NAME?K=V answers DIR/NAME__K=V.json
(DIR/NAME.json without a query). Requires the header X-Api-Key: test-key (401 otherwise);
/unavailable answers 503; /headers (no key needed) answers one record naming the X-Api-Key
and Authorization headers it received. Binds 127.0.0.1 on a free port and writes the port to PORT_FILE;
serves https with CERT_PEM (certificate and key) when given.
Usage: json_pages_server.py DIR PORT_FILE [CERT_PEM]"""
import http.server
import json
import os
import ssl
import sys
import urllib.parse

root, port_file = sys.argv[1], sys.argv[2]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def send(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/headers":
            # What this request carried, as one record: cross-origin tests check that the
            # connection's headers and credentials did not come along.
            seen = {"api_key": self.headers.get("X-Api-Key"),
                    "authorization": self.headers.get("Authorization")}
            return self.send(200, json.dumps({"data": [seen], "next": None}).encode())
        if self.headers.get("X-Api-Key") != "test-key":
            return self.send(401, b'{"error":"missing api key"}')
        if url.path == "/unavailable":
            return self.send(503, b'{"error":"try later"}')
        name = url.path.strip("/").replace("/", "_")
        if url.query:
            name += "__" + url.query
        path = os.path.join(root, name + ".json")
        if not os.path.exists(path):
            return self.send(404, b'{"error":"no such page"}')
        with open(path, "rb") as f:
            self.send(200, f.read())

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
if len(sys.argv) > 3:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[3])
    server.socket = context.wrap_socket(server.socket, server_side=True)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
