"""Python's SimpleXMLRPCServer serving add(a, b) and payload(order).

Threaded and HTTP/1.1 (keep-alive), so concurrent callers are served as with the Node
peers; the stock class is single-threaded HTTP/1.0 (a new connection per call).
"""
import json
import signal
import sys
from socketserver import ThreadingMixIn
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer


class Handler(SimpleXMLRPCRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass


class Server(ThreadingMixIn, SimpleXMLRPCServer):
    daemon_threads = True


server = Server(("127.0.0.1", 0), requestHandler=Handler, logRequests=False, allow_none=True)
server.register_function(lambda a, b: a + b, "Bench.add")
server.register_function(lambda order: order, "Bench.payload")
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
print(json.dumps({"http": server.server_address[1]}), flush=True)
server.serve_forever()
