//! Loopback test lab for eyeballs: a broken-IPv6 listener, refusing ports, fd counting, the shared adapter suite (work in progress).
