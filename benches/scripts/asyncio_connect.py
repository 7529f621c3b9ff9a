"""One contender of benches/src/bin/peers.rs: Python asyncio's Happy Eyeballs.

Usage: python3 asyncio_connect.py HOST PORT DELAY [ADDRESS...]

Prints "ready <python version>" (or "unsupported <version>" before Python 3.8, which has no
happy_eyeballs_delay), then for every line read on stdin connects once with
asyncio.open_connection(HOST, PORT, happy_eyeballs_delay=DELAY) and prints
"ok <seconds> <peer address>" or "err <seconds> <error>". With ADDRESS arguments the loop's
getaddrinfo answers them (in that order) instead of asking the system: the "pre-resolved"
mode used when no name resolves to both loopback addresses.
"""

import asyncio
import socket
import sys
import time


def main():
    host, port, delay = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    fixed = sys.argv[4:]
    version = sys.version.split()[0]
    if sys.version_info < (3, 8):
        print(f"unsupported {version}", flush=True)
        return
    print(f"ready {version}", flush=True)
    asyncio.run(serve(host, port, delay, fixed))


async def serve(host, port, delay, fixed):
    loop = asyncio.get_running_loop()
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
    # Reading stdin blocks the loop between connects, when nothing else runs.
    for _ in sys.stdin:
        start = time.perf_counter()
        try:
            connect = asyncio.open_connection(host, port, happy_eyeballs_delay=delay)
            _, writer = await asyncio.wait_for(connect, timeout=10)
            elapsed = time.perf_counter() - start
            peer = writer.get_extra_info("peername")[0]
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass  # the lab's listener closes at once; a reset is expected
            print(f"ok {elapsed:.6f} {peer}", flush=True)
        except Exception as e:  # any failure is a result to report
            elapsed = time.perf_counter() - start
            print(f"err {elapsed:.6f} {type(e).__name__}: {e}".replace("\n", " "), flush=True)


if __name__ == "__main__":
    main()
