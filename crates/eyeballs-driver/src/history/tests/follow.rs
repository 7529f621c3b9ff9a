//! A history that follows the network: re-keyed at race start when the detected network
//! changed, checked at most once per interval, kept as it is when detection fails.

use super::*;
use crate::{Request, Session, Settings};
use eyeballs::Target;
use std::io;
use std::net::SocketAddr;

/// A detection the test scripts: what it says, and how often it was asked.
#[derive(Clone, Default)]
struct Scripted {
    says: Arc<Mutex<Option<Result<NetworkId, io::ErrorKind>>>>,
    asked: Arc<AtomicU64>,
}

impl Scripted {
    fn new(network: NetworkId) -> Scripted {
        let s = Scripted::default();
        s.say(Ok(network));
        s
    }

    fn say(&self, what: Result<NetworkId, io::ErrorKind>) {
        *self.says.lock().unwrap() = Some(what);
    }

    fn asked(&self) -> u64 {
        self.asked.load(Ordering::SeqCst)
    }

    fn detect(&self) -> impl Fn() -> io::Result<NetworkId> + Send + Sync + 'static {
        let s = self.clone();
        move || {
            s.asked.fetch_add(1, Ordering::SeqCst);
            match s.says.lock().unwrap().expect("the test says something") {
                Ok(id) => Ok(id),
                Err(kind) => Err(io::Error::new(kind, "scripted failure")),
            }
        }
    }
}

fn v6_target() -> SocketAddr {
    SocketAddr::new(v6(), 443)
}

fn v4_target() -> SocketAddr {
    "192.0.2.1:443".parse().unwrap()
}

/// Starts a race on `history` at `at` and gives the address it tries first (the race is
/// dropped before anything happened: it teaches nothing).
fn first_attempt(history: &SharedHistory, at: StdInstant) -> SocketAddr {
    let settings = Settings {
        history: Some(history.clone()),
        ..Settings::default()
    };
    let mut race: Session<(), (), ()> =
        Session::start(&settings, Target::addresses([v6_target(), v4_target()]), at).unwrap();
    match race.poll_request() {
        Some(Request::Attempt(a)) => a.addr,
        other => panic!("the race asked for {other:?}"),
    }
}

#[test]
fn a_following_history_rekeys_itself_at_race_start_when_the_network_changes() {
    let history = SharedHistory::default();
    let detect = Scripted::new(HOME);
    let every = Duration::from_secs(10);
    assert_eq!(
        history
            .follow_network_with(every, true, detect.detect())
            .unwrap(),
        HOME
    );
    assert_eq!(history.network(), HOME, "set at once");
    assert_eq!(detect.asked(), 1);
    // Learned at home: its IPv6 path is broken.
    history.import(vec![record(HOME, 10)]);
    let t0 = StdInstant::now();
    let at = |s: u64| t0 + Duration::from_secs(s);
    assert_eq!(first_attempt(&history, at(1)), v4_target());

    // The machine moves to the cafe. Races within the interval neither ask nor notice.
    detect.say(Ok(CAFE));
    for _ in 0..100 {
        assert_eq!(first_attempt(&history, at(5)), v4_target());
    }
    assert_eq!(detect.asked(), 1, "not asked per connect");
    assert_eq!(history.network(), HOME);

    // The first race after the interval asks, and runs on the cafe's (empty) history.
    assert_eq!(first_attempt(&history, at(11)), v6_target());
    assert_eq!(detect.asked(), 2);
    assert_eq!(history.network(), CAFE);
    assert!(!history.path_info(v6()).broken);
    assert_eq!(history.len(), 1, "home's entries are kept (keep_others)");

    // Back home: its history applies again.
    detect.say(Ok(HOME));
    assert_eq!(
        first_attempt(&history, at(16)),
        v6_target(),
        "not yet asked"
    );
    assert_eq!(first_attempt(&history, at(22)), v4_target());
    assert_eq!(history.network(), HOME);
    assert_eq!(detect.asked(), 3);
}

#[test]
fn without_keep_others_a_network_change_flushes_the_others() {
    let history = SharedHistory::new(HistoryConfig::default(), HOME);
    let detect = Scripted::new(HOME);
    history
        .follow_network_with(Duration::ZERO, false, detect.detect())
        .unwrap();
    history.import(vec![record(HOME, 10), record(CAFE, 10)]);
    let t0 = StdInstant::now();
    // Nothing changed: nothing is dropped (not even the cafe's entries).
    assert_eq!(first_attempt(&history, t0), v4_target());
    assert_eq!(history.len(), 2);
    detect.say(Ok(NetworkId(3)));
    assert_eq!(first_attempt(&history, t0), v6_target());
    assert_eq!(history.network(), NetworkId(3));
    assert!(history.is_empty(), "every other network was dropped");
    detect.say(Ok(HOME));
    assert_eq!(
        first_attempt(&history, t0),
        v6_target(),
        "home was forgotten"
    );
    assert_eq!(detect.asked(), 4, "ZERO: asked at every race start");
}

#[test]
fn a_race_in_flight_across_a_change_teaches_its_own_network() {
    let history = SharedHistory::new(HistoryConfig::default(), HOME);
    let detect = Scripted::new(HOME);
    history
        .follow_network_with(Duration::ZERO, true, detect.detect())
        .unwrap();
    let settings = Settings {
        history: Some(history.clone()),
        ..Settings::default()
    };
    let t0 = StdInstant::now();
    let ms = |n| t0 + Duration::from_millis(n);
    let mut race: Session<(), (), ()> =
        Session::start(&settings, Target::addresses([v6_target(), v4_target()]), t0).unwrap();
    // Meanwhile another race starts on the cafe's network.
    detect.say(Ok(CAFE));
    assert_eq!(first_attempt(&history, ms(100)), v6_target());
    assert_eq!(history.network(), CAFE);
    // The first race: IPv6 hangs, IPv4 wins. What it learned is home's.
    race.handle_timeout(ms(250));
    while let Some(Request::Attempt(a)) = race.poll_request() {
        if a.addr == v4_target() {
            race.handle_connected(ms(270), a.id, ());
        }
    }
    assert!(race.is_finished());
    assert!(!history.path_info(v6()).broken, "not the cafe's");
    assert!(history.with_network(HOME).path_info(v6()).broken, "home's");
}

#[test]
fn a_failed_check_keeps_the_network_and_says_so() {
    let history = SharedHistory::new(HistoryConfig::default(), HOME);
    let detect = Scripted::new(HOME);
    detect.say(Err(io::ErrorKind::PermissionDenied));
    let e = history
        .follow_network_with(Duration::ZERO, false, detect.detect())
        .unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
    assert_eq!(history.network(), HOME, "kept");
    let seen = history.last_network_error().expect("the error is kept");
    assert_eq!(seen.kind(), io::ErrorKind::PermissionDenied);
    assert!(seen.to_string().contains("scripted failure"), "{seen}");
    // Races start as usual, on the network the history has.
    history.import(vec![record(HOME, 10)]);
    assert_eq!(first_attempt(&history, StdInstant::now()), v4_target());
    assert_eq!(detect.asked(), 2, "and asked again");
    // A check that works again clears the error.
    detect.say(Ok(CAFE));
    assert_eq!(first_attempt(&history, StdInstant::now()), v6_target());
    assert!(history.last_network_error().is_none());
    assert_eq!(history.network(), CAFE);
}

#[test]
fn clones_follow_and_other_networks_handles_do_not() {
    let history = SharedHistory::new(HistoryConfig::default(), HOME);
    let clone = history.clone();
    let bound = history.with_network(NetworkId(7));
    let detect = Scripted::new(CAFE);
    history
        .follow_network_with(Duration::ZERO, true, detect.detect())
        .unwrap();
    assert_eq!(clone.network(), CAFE, "a clone made before follows too");
    let t0 = StdInstant::now();
    first_attempt(&bound, t0);
    assert_eq!(detect.asked(), 1, "a with_network handle does not ask");
    assert_eq!(bound.network(), NetworkId(7));
    first_attempt(&clone, t0);
    assert_eq!(detect.asked(), 2);
    assert!(bound.last_network_error().is_none());
}

/// Following changes nothing for a network set by hand until the detected network changes.
#[test]
fn a_network_set_by_hand_lasts_until_the_detected_one_changes() {
    let history = SharedHistory::new(HistoryConfig::default(), HOME);
    let detect = Scripted::new(HOME);
    history
        .follow_network_with(Duration::ZERO, true, detect.detect())
        .unwrap();
    history.set_network(NetworkId(9), true);
    let t0 = StdInstant::now();
    first_attempt(&history, t0);
    assert_eq!(history.network(), NetworkId(9));
    detect.say(Ok(CAFE));
    first_attempt(&history, t0);
    assert_eq!(history.network(), CAFE);
}

/// The real detection: this machine's network.
#[test]
fn follow_network_starts_on_the_machines_network() {
    let history = SharedHistory::new(HistoryConfig::default(), HOME);
    let here = history
        .follow_network(Duration::from_secs(60), true)
        .unwrap();
    assert_eq!(here, crate::network::current().unwrap());
    assert_eq!(history.network(), here);
    assert!(history.last_network_error().is_none());
}
