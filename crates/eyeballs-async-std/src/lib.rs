//! Happy Eyeballs connect for async-std, driven by the eyeballs engine (work in progress).
