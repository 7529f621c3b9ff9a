//! Happy Eyeballs connect for tokio, driven by the eyeballs engine (work in progress).
