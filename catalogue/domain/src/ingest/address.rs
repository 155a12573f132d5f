//! Which addresses a product image may be fetched from. A feed comes from outside (a partner,
//! a shop system): without this check its `image` URLs could make the ingest read internal
//! services (loopback admin ports, the cloud metadata service at 169.254.169.254, hosts on
//! the private network) and store what they answer.
//!
//! The check sits in the HTTP client's name resolver ([`GuardedResolver`]): every hop of a
//! request (each redirect too) is resolved once, every address is checked, and the client
//! connects to exactly the addresses checked, so a DNS answer that changes between the check
//! and the connection (DNS rebinding) cannot get past it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// Why an address is not a public internet address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    /// `0.0.0.0/8`, `::` (Linux connects 0.0.0.0 to the local host).
    Unspecified,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// `10/8`, `172.16/12`, `192.168/16`, `fc00::/7`.
    Private,
    /// `169.254/16` (the cloud metadata service), `fe80::/10`.
    LinkLocal,
    /// `100.64/10`: carrier-grade NAT, often a provider's internal network.
    SharedCgnat,
    Multicast,
    /// `255.255.255.255`, `240.0.0.0/4`.
    Reserved,
}

impl std::fmt::Display for AddressClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AddressClass::Unspecified => "an unspecified address",
            AddressClass::Loopback => "a loopback address",
            AddressClass::Private => "a private address",
            AddressClass::LinkLocal => "a link-local address",
            AddressClass::SharedCgnat => "a shared (carrier-grade NAT) address",
            AddressClass::Multicast => "a multicast address",
            AddressClass::Reserved => "a reserved address",
        })
    }
}

// Ranges std has no stable method for.
const THIS_NETWORK: Ipv4Net = Ipv4Net::new_assert(Ipv4Addr::new(0, 0, 0, 0), 8);
const SHARED_CGNAT: Ipv4Net = Ipv4Net::new_assert(Ipv4Addr::new(100, 64, 0, 0), 10);
const RESERVED: Ipv4Net = Ipv4Net::new_assert(Ipv4Addr::new(240, 0, 0, 0), 4);
/// NAT64 (RFC 6052): a gateway forwards `64:ff9b::a.b.c.d` to the IPv4 address a.b.c.d.
const NAT64: Ipv6Net = Ipv6Net::new_assert(Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96);

/// The class of an address that is not a public internet address; `None` for a public one.
/// IPv6 forms that carry an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, NAT64) are judged by
/// that IPv4 address.
pub fn classify(ip: IpAddr) -> Option<AddressClass> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<AddressClass> {
    Some(if THIS_NETWORK.contains(&ip) {
        AddressClass::Unspecified
    } else if ip.is_loopback() {
        AddressClass::Loopback
    } else if ip.is_private() {
        AddressClass::Private
    } else if ip.is_link_local() {
        AddressClass::LinkLocal
    } else if SHARED_CGNAT.contains(&ip) {
        AddressClass::SharedCgnat
    } else if ip.is_multicast() {
        AddressClass::Multicast
    } else if ip.is_broadcast() || RESERVED.contains(&ip) {
        AddressClass::Reserved
    } else {
        return None;
    })
}

fn classify_v6(ip: Ipv6Addr) -> Option<AddressClass> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    if NAT64.contains(&ip) {
        let o = ip.octets();
        return classify_v4(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
    }
    Some(if ip.is_unspecified() {
        AddressClass::Unspecified
    } else if ip.is_loopback() {
        AddressClass::Loopback
    } else if ip.is_unique_local() {
        AddressClass::Private
    } else if ip.is_unicast_link_local() {
        AddressClass::LinkLocal
    } else if ip.is_multicast() {
        AddressClass::Multicast
    } else {
        return None;
    })
}

/// Which non-public addresses image hosts may have (public ones are always allowed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PrivateHosts {
    /// None (the default): feeds are input from outside.
    #[default]
    Refused,
    /// Every address (`--allow-private-image-hosts`: an image server on this machine or the
    /// internal network).
    Allowed,
    /// Only these networks (`--allow-image-network 10.1.2.0/24`).
    Networks(Vec<IpNet>),
}

impl PrivateHosts {
    /// Why `ip` may not be connected to, if it may not.
    pub fn refuses(&self, ip: IpAddr) -> Option<AddressClass> {
        let class = classify(ip)?;
        match self {
            PrivateHosts::Refused => Some(class),
            PrivateHosts::Allowed => None,
            PrivateHosts::Networks(nets) => {
                (!nets.iter().any(|n| n.contains(&ip))).then_some(class)
            }
        }
    }
}

/// An image host resolved to an address the policy refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("host {host} has address {addr}, {class}: private image hosts are not allowed")]
pub struct BlockedAddress {
    pub host: String,
    pub addr: IpAddr,
    pub class: AddressClass,
}

/// The system resolver, then the check: a host any of whose addresses is refused is refused
/// as a whole (the client would otherwise try the next address). ureq connects to the
/// addresses returned here and to no others.
#[derive(Debug)]
pub struct GuardedResolver {
    pub allowed: PrivateHosts,
}

impl Resolver for GuardedResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let addrs = DefaultResolver::default().resolve(uri, config, timeout)?;
        for a in addrs.iter() {
            if let Some(class) = self.allowed.refuses(a.ip()) {
                let blocked = BlockedAddress {
                    host: uri.host().unwrap_or_default().to_string(),
                    addr: a.ip(),
                    class,
                };
                return Err(ureq::Error::Other(Box::new(blocked)));
            }
        }
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_of_addresses() {
        use AddressClass::*;
        let cases: &[(&str, Option<AddressClass>)] = &[
            ("127.0.0.1", Some(Loopback)),
            ("127.255.0.9", Some(Loopback)),
            ("::1", Some(Loopback)),
            ("::ffff:127.0.0.1", Some(Loopback)),
            ("0.0.0.0", Some(Unspecified)),
            ("0.1.2.3", Some(Unspecified)),
            ("::", Some(Unspecified)),
            ("10.0.0.1", Some(Private)),
            ("172.16.0.1", Some(Private)),
            ("172.31.255.255", Some(Private)),
            ("192.168.1.1", Some(Private)),
            ("::ffff:10.1.2.3", Some(Private)),
            ("fc00::1", Some(Private)),
            ("fd12:3456::1", Some(Private)),
            ("169.254.169.254", Some(LinkLocal)),
            ("::ffff:169.254.169.254", Some(LinkLocal)),
            ("64:ff9b::a9fe:a9fe", Some(LinkLocal)),
            ("fe80::1", Some(LinkLocal)),
            ("100.64.0.1", Some(SharedCgnat)),
            ("100.127.255.255", Some(SharedCgnat)),
            ("224.0.0.1", Some(Multicast)),
            ("ff02::1", Some(Multicast)),
            ("255.255.255.255", Some(Reserved)),
            ("240.0.0.1", Some(Reserved)),
            // Public.
            ("93.184.215.14", None),
            ("172.32.0.1", None),
            ("100.128.0.1", None),
            ("2606:4700::1111", None),
            ("::ffff:8.8.8.8", None),
            ("64:ff9b::808:808", None),
        ];
        for (ip, want) in cases {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(classify(ip), *want, "{ip}");
        }
    }

    #[test]
    fn allowed_networks_open_only_themselves() {
        let allowed = PrivateHosts::Networks(vec!["127.0.0.1/32".parse().unwrap()]);
        assert_eq!(allowed.refuses("127.0.0.1".parse().unwrap()), None);
        assert_eq!(
            allowed.refuses("127.0.0.2".parse().unwrap()),
            Some(AddressClass::Loopback)
        );
        assert_eq!(allowed.refuses("8.8.8.8".parse().unwrap()), None);
        assert_eq!(
            PrivateHosts::Allowed.refuses("10.0.0.1".parse().unwrap()),
            None
        );
        assert_eq!(
            PrivateHosts::Refused.refuses("10.0.0.1".parse().unwrap()),
            Some(AddressClass::Private)
        );
    }
}
