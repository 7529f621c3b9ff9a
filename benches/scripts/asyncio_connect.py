"""One contender of benches/src/bin/peers: Python asyncio's Happy Eyeballs.

Usage: python3 asyncio_connect.py HOST PORT DELAY [ADDRESS...] [--cafile PEM] [--timeout S]

Prints "ready <python version>" (or "unsupported <version>" before Python 3.8, which has no
happy_eyeballs_delay), then for every line read on stdin connects once with
asyncio.open_connection(HOST, PORT, happy_eyeballs_delay=DELAY) and prints
"ok <seconds> <peer address>", "timeout <seconds>" (nothing within S seconds, 10 by
default) or "err <seconds> <error>". With ADDRESS arguments the loop's getaddrinfo answers
them (in that order) instead of asking the system: the "pre-resolved" mode used when no name
resolves to both loopback addresses. With --cafile the connection is TLS (ssl=, a context
trusting the CA certificates of PEM, HOST the name checked): asyncio races TCP with
happy_eyeballs_delay, then runs the TLS handshake over the winner; "ok" comes when the
handshake is done.
"""

import argparse
import asyncio
import socket
import ssl
import sys
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("delay", type=float)
    parser.add_argument("addresses", nargs="*")
    parser.add_argument("--cafile")
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()
    version = sys.version.split()[0]
    if sys.version_info < (3, 8):
        print(f"unsupported {version}", flush=True)
        return
    print(f"ready {version}", flush=True)
    asyncio.run(serve(args))


async def serve(args):
    loop = asyncio.get_running_loop()
    fixed = args.addresses
    if fixed:
        async def getaddrinfo(h, p, *, family=0, type=0, proto=0, flags=0):
            out = []
            for a in fixed:
                if ":" in a:
                    out.append((socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (a, p, 0, 0)))
                else:
                    out.append((socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (a, p)))
            return out

        loop.getaddrinfo = getaddrinfo
    tls = ssl.create_default_context(cafile=args.cafile) if args.cafile else None
    # Reading stdin blocks the loop between connects, when nothing else runs.
    for _ in sys.stdin:
        start = time.perf_counter()
        try:
            connect = asyncio.open_connection(
                args.host, args.port, ssl=tls, happy_eyeballs_delay=args.delay
            )
            _, writer = await asyncio.wait_for(connect, timeout=args.timeout)
            elapsed = time.perf_counter() - start
            peer = writer.get_extra_info("peername")[0]
            if tls is not None:
                # No TLS shutdown exchange: the connection is done with.
                writer.transport.abort()
            else:
                writer.close()
                try:
                    await writer.wait_closed()
                except OSError:
                    pass  # the lab's listener closes at once; a reset is expected
            print(f"ok {elapsed:.6f} {peer}", flush=True)
        except asyncio.TimeoutError:
            print(f"timeout {time.perf_counter() - start:.6f}", flush=True)
        except Exception as e:  # any failure is a result to report
            elapsed = time.perf_counter() - start
            print(f"err {elapsed:.6f} {type(e).__name__}: {e}".replace("\n", " "), flush=True)


if __name__ == "__main__":
    main()
