//! The runtime-independent driver shared by the eyeballs adapters: feeds the engine, owns the sockets (work in progress).
