//! Happy Eyeballs connect for smol (async-io), driven by the eyeballs engine (work in progress).
