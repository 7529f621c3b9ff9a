//! Happy Eyeballs connect for mio: blocking one-liner and an embeddable driver for your own event loop (work in progress).
