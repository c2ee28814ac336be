#!/usr/bin/env python3
"""A WebSocket peer we did not write (the PyPI `websockets` library, sync API) for the
interoperability tests of mtp/tests/ws.rs.

    ws_peer.py client URI   connects with subprotocol v1.usp and runs a scripted exchange
    ws_peer.py server PORT  serves v1.usp on 127.0.0.1:PORT; echoes every binary message
                            reversed and pings the client after each one

Both print progress lines on stdout (flushed) that the Rust test reads; any failed check
raises, which ends the process with a non-zero status.
"""
import sys

from websockets.sync.client import connect
from websockets.sync.server import serve


def say(*words):
    print(*words, flush=True)


def client(uri):
    # The Rust side (our server link plus the test) answers each Record with its bytes reversed.
    with connect(uri, subprotocols=["v1.usp"], compression=None, open_timeout=10, proxy=None,
                 max_size=2**21) as ws:
        assert ws.subprotocol == "v1.usp", ws.subprotocol
        say("connected")
        record = b"\x00usp\x00record\xff"
        ws.send(record)
        assert ws.recv(timeout=10) == record[::-1]
        say("binary ok")
        # A fragmented message (three frames); the server reassembles it (R-WS.14b).
        ws.send([b"frag-", b"ment", b"ed\x00"])
        assert ws.recv(timeout=10) == b"frag-mented\x00"[::-1]
        say("fragmented ok")
        big = bytes(range(256)) * 4096  # 1 MiB
        ws.send(big)
        assert ws.recv(timeout=10) == big[::-1]
        say("large ok")
        assert ws.ping(b"py").wait(10), "no pong"
        say("pong ok")
    say("closed")


def server(port):
    def handler(ws):
        say("path", ws.request.path)
        say("subprotocol", ws.subprotocol)
        for message in ws:
            assert isinstance(message, bytes), "text message"
            ws.send(message[::-1])
            assert ws.ping(b"srv").wait(10), "no pong"
            say("echoed", len(message))

    with serve(handler, "127.0.0.1", port, subprotocols=["v1.usp"], compression=None,
               max_size=2**21) as srv:
        say("listening")
        srv.serve_forever()


if __name__ == "__main__":
    if sys.argv[1] == "client":
        client(sys.argv[2])
    elif sys.argv[1] == "server":
        server(int(sys.argv[2]))
    else:
        sys.exit("usage: ws_peer.py client URI | server PORT")
