//! A tiny DNS server on 127.0.0.1 for the hickory tests (`hickory.rs`, `quic.rs`): answers
//! one name, `svc.test.`, with AAAA ::1 (when asked to), A 127.0.0.1 and one HTTPS record
//! `1 . alpn=<ids> port=<port>`; and a hickory resolver that asks it only. Offline.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::svcb::{Alpn, SVCB, SvcParamKey, SvcParamValue};
use hickory_proto::rr::rdata::{A, AAAA, HTTPS};
use hickory_proto::rr::{Name, RData, Record, RecordType as HRecordType};
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfigGroup, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;

/// Answers `svc.test.`: AAAA ::1 (when `v6`), A 127.0.0.1, HTTPS `1 . alpn=<alpn> port=<port>`
/// (`https_after` late: a slow HTTPS answer); NXDOMAIN for anything else.
pub struct DnsServer {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl DnsServer {
    pub fn start(port: u16, v6: bool, alpn: &[&str], https_after: Duration) -> DnsServer {
        let alpn: Vec<String> = alpn.iter().map(|id| id.to_string()).collect();
        let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
        socket
            .set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let addr = socket.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 1500];
            while !s.load(Ordering::Acquire) {
                let Ok((n, from)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                let Ok(request) = Message::from_vec(&buf[..n]) else {
                    continue;
                };
                let reply = answer(&request, port, v6, &alpn);
                let Ok(bytes) = reply.to_vec() else {
                    continue;
                };
                let is_https = request
                    .queries()
                    .first()
                    .is_some_and(|q| q.query_type() == HRecordType::HTTPS);
                if is_https && !https_after.is_zero() {
                    let socket = socket.clone();
                    std::thread::spawn(move || {
                        std::thread::sleep(https_after);
                        let _ = socket.send_to(&bytes, from);
                    });
                } else {
                    let _ = socket.send_to(&bytes, from);
                }
            }
        });
        DnsServer {
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn answer(request: &Message, port: u16, v6: bool, alpn: &[String]) -> Message {
    let mut reply = Message::new();
    reply
        .set_id(request.id())
        .set_message_type(MessageType::Response)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(request.recursion_desired())
        .set_recursion_available(true)
        .set_authoritative(true);
    let Some(query) = request.queries().first() else {
        return reply;
    };
    reply.add_query(query.clone());
    let name = query.name().clone();
    if name.to_ascii() != "svc.test." {
        reply.set_response_code(ResponseCode::NXDomain);
        return reply;
    }
    let rdata = match query.query_type() {
        HRecordType::AAAA if v6 => Some(RData::AAAA(AAAA(Ipv6Addr::LOCALHOST))),
        HRecordType::A => Some(RData::A(A(Ipv4Addr::LOCALHOST))),
        HRecordType::HTTPS => Some(RData::HTTPS(HTTPS(SVCB::new(
            1,
            Name::root(),
            vec![
                (SvcParamKey::Alpn, SvcParamValue::Alpn(Alpn(alpn.to_vec()))),
                (SvcParamKey::Port, SvcParamValue::Port(port)),
            ],
        )))),
        _ => None,
    };
    if let Some(rdata) = rdata {
        reply.add_answer(Record::from_rdata(name, 60, rdata));
    }
    reply
}

/// A resolver asking `server` only (no hosts file), one try of 1 s per query.
pub fn resolver(server: SocketAddr) -> TokioResolver {
    let config = ResolverConfig::from_parts(
        None,
        Vec::new(),
        NameServerConfigGroup::from_ips_clear(&[server.ip()], server.port(), true),
    );
    let mut options = ResolverOpts::default();
    options.timeout = Duration::from_secs(1);
    options.attempts = 1;
    options.use_hosts_file = ResolveHosts::Never;
    TokioResolver::builder_with_config(config, TokioConnectionProvider::default())
        .with_options(options)
        .build()
}
