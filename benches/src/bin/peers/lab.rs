//! The lab as the contenders see it: its two addresses, and whether they find them by a name
//! or are handed them.

use super::*;

/// The host name used in "pre-resolved" mode (curl and hyper-util need a name to resolve).
pub(super) const LAB_NAME: &str = "eyeballs-lab.test";

/// How a contender finds the lab's addresses.
#[derive(Clone, Debug)]
pub(super) enum Resolution {
    /// A name every contender looks up with the system resolver (`getaddrinfo`).
    Name(String),
    /// `[::1]:P` and `127.0.0.1:P`, handed to each contender.
    Preresolved,
}

/// Everything the contenders share.
pub(super) struct Lab {
    pub(super) resolution: Resolution,
    pub(super) v6: SocketAddr,
    pub(super) v4: SocketAddr,
    pub(super) rt: Arc<tokio::runtime::Runtime>,
}

impl Lab {
    pub(super) fn port(&self) -> u16 {
        self.v4.port()
    }

    pub(super) fn host(&self) -> &str {
        match &self.resolution {
            Resolution::Name(n) => n,
            Resolution::Preresolved => LAB_NAME,
        }
    }

    /// The eyeballs target: the name, or both addresses.
    pub(super) fn target(&self) -> Target {
        match &self.resolution {
            Resolution::Name(n) => Target::host(n, self.port()),
            Resolution::Preresolved => Target::addresses([self.v6, self.v4]),
        }
    }

    pub(super) fn eyeballs_how(&self) -> String {
        match &self.resolution {
            Resolution::Name(_) => "getaddrinfo per family (AAAA, A)".into(),
            Resolution::Preresolved => "pre-resolved [::1]:P, 127.0.0.1:P".into(),
        }
    }
}

fn resolves_to_both(name: &str, port: u16) -> bool {
    let Ok(addrs) = (name, port).to_socket_addrs() else {
        return false;
    };
    let ips: Vec<IpAddr> = addrs.map(|a| a.ip()).collect();
    ips.contains(&V6_LOOPBACK) && ips.contains(&V4_LOOPBACK)
}

/// How the contenders find the lab at `port`: by `name` if it resolves to both loopback
/// addresses, otherwise pre-resolved.
pub(super) fn resolution(name: Option<&str>, port: u16) -> Resolution {
    match name {
        Some(n) if resolves_to_both(n, port) => Resolution::Name(n.to_string()),
        Some(n) => {
            eprintln!("peers: {n} does not resolve to both ::1 and 127.0.0.1; pre-resolving");
            Resolution::Preresolved
        }
        None => Resolution::Preresolved,
    }
}
