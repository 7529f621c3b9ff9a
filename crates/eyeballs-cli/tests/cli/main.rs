//! The `eyeballs` binary run as a subprocess, one module per command or topic: `simulate` on
//! every shared example (text, `--json`, `--svg`), `connect` for real on loopback, its
//! `--history` file, `connect --tls` (secure racing), `connect --quic`, `demo`, and bad usage / bad input (exit code 2 and a message naming the
//! problem).

mod connect;
mod demo;
mod history;
mod quic;
mod simulate;
mod support;
mod tls;
mod usage;
