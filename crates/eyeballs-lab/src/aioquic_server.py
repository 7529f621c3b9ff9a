"""A QUIC server that is not quinn, for eyeballs' interoperability tests: aioquic's.

Listens on --host/--port (port 0: the system picks), completes QUIC handshakes with the
certificate chain and key given (PEM) and the ALPN ids given (comma-separated), and prints,
one line each, flushed:

    LISTENING <host>:<port>      once, when it listens ([host]:port for IPv6)
    HANDSHAKE <alpn>             for every handshake completed (the ALPN negotiated)

It ends when its standard input closes (the test that started it is gone) or when killed.
The lab (eyeballs_lab::quic::AioquicServer) writes this file out and runs it.
"""

import argparse
import asyncio
import sys

from aioquic.asyncio import QuicConnectionProtocol, serve
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import HandshakeCompleted


class Protocol(QuicConnectionProtocol):
    def quic_event_received(self, event):
        if isinstance(event, HandshakeCompleted):
            print(f"HANDSHAKE {event.alpn_protocol or ''}", flush=True)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--alpn", default="h3")
    args = parser.parse_args()

    configuration = QuicConfiguration(
        is_client=False, alpn_protocols=[p for p in args.alpn.split(",") if p]
    )
    configuration.load_cert_chain(args.cert, args.key)
    server = await serve(
        args.host, args.port, configuration=configuration, create_protocol=Protocol
    )
    host, port = server._transport.get_extra_info("sockname")[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"LISTENING {shown}:{port}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
