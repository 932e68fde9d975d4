//! Where webhooks may go. Endpoint owners choose the URL, so without a guard a webhook
//! could reach the server's own network (a database port, a cloud metadata service). The
//! scheme is checked when the URL is saved; the address at send time, by the resolver
//! the delivery client connects through, so a name that resolves elsewhere later (DNS
//! rebinding) is still caught. `QUIVER_WEBHOOK_ALLOW_PRIVATE=1` turns the address check
//! off for tests and local setups.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Longest endpoint URL accepted.
pub const MAX_URL_CHARS: usize = 2000;

/// Checks an endpoint URL as it is saved; the message names what is wrong.
pub fn check_url(raw: &str, allow_http: bool) -> Result<Url, String> {
    if raw.chars().count() > MAX_URL_CHARS {
        return Err(format!("url must be at most {MAX_URL_CHARS} characters"));
    }
    let url = Url::parse(raw.trim()).map_err(|e| format!("url is not a valid URL: {e}"))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_http => {}
        "http" => {
            return Err(
                "url must use https (http is allowed only when the operator sets QUIVER_WEBHOOK_ALLOW_HTTP=1)"
                    .into(),
            );
        }
        other => return Err(format!("url must be an https URL, not {other}:")),
    }
    if url.host().is_none() {
        return Err("url must name a host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("url must not contain a user name or password".into());
    }
    if url.fragment().is_some() {
        return Err("url must not contain a fragment (#...)".into());
    }
    Ok(url)
}

/// Why an address may not be a webhook's destination; `None` when it may.
pub fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => forbidden_v4(v4),
            None => forbidden_v6(v6),
        },
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_private() {
        Some("a private address")
    } else if ip.is_link_local() {
        // 169.254.169.254 is the cloud metadata service.
        Some("a link-local or metadata address")
    } else if ip.is_unspecified() || a == 0 {
        Some("an unspecified address")
    } else if a == 100 && (64..128).contains(&b) {
        Some("a shared (carrier-grade NAT) address")
    } else if ip.is_broadcast() || ip.is_multicast() || a >= 240 {
        Some("a broadcast, multicast or reserved address")
    } else if a == 192 && b == 0 && ip.octets()[2] == 0 {
        Some("an IETF protocol address")
    } else {
        None
    }
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_unspecified() {
        Some("an unspecified address")
    } else if first & 0xfe00 == 0xfc00 {
        // Unique local, which includes AWS's metadata address fd00:ec2::254.
        Some("a private address")
    } else if first & 0xffc0 == 0xfe80 {
        Some("a link-local address")
    } else if ip.is_multicast() {
        Some("a multicast address")
    } else if let Some(v4) = ip.to_ipv4() {
        // IPv4-compatible (::a.b.c.d) addresses reach the IPv4 one.
        forbidden_v4(v4)
    } else {
        None
    }
}

/// The refusal of a destination, as the delivery's error says it.
#[derive(Debug, thiserror::Error)]
#[error("refused to connect: {host} is {why} (webhooks may not reach private networks)")]
pub struct Refused {
    pub host: String,
    pub why: &'static str,
}

/// Checks a URL whose host is an address literal, which no resolver sees.
pub fn check_literal(url: &Url, allow_private: bool) -> Result<(), Refused> {
    if allow_private {
        return Ok(());
    }
    let ip = match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
        _ => return Ok(()),
    };
    match forbidden(ip) {
        Some(why) => Err(Refused {
            host: ip.to_string(),
            why,
        }),
        None => Ok(()),
    }
}

/// Resolves names with the system resolver and drops forbidden addresses; a name with
/// only forbidden addresses fails to resolve, with the reason.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if allow_private {
                return Ok(Box::new(found.into_iter()) as Addrs);
            }
            let mut refusal = None;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| match forbidden(a.ip()) {
                    Some(why) => {
                        refusal.get_or_insert(why);
                        false
                    }
                    None => true,
                })
                .collect();
            if allowed.is_empty() {
                let why = refusal.unwrap_or("not resolvable");
                return Err(Box::new(Refused { host, why }) as _);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "::ffff:127.0.0.1",
            "fd00:ec2::254",
            "fe80::1",
            "::",
        ] {
            assert!(forbidden(bad.parse().unwrap()).is_some(), "{bad}");
        }
        for good in ["93.184.216.34", "2606:2800:220:1::1", "8.8.8.8"] {
            assert!(forbidden(good.parse().unwrap()).is_none(), "{good}");
        }
    }

    #[test]
    fn urls() {
        assert!(check_url("https://example.com/hook", false).is_ok());
        assert!(
            check_url("http://example.com/hook", false)
                .unwrap_err()
                .contains("https")
        );
        assert!(check_url("http://example.com/hook", true).is_ok());
        assert!(check_url("ftp://example.com/", true).is_err());
        assert!(check_url("https://u:p@example.com/", false).is_err());
        assert!(check_url("not a url", false).is_err());
        let lit = Url::parse("https://127.0.0.1:8443/").unwrap();
        assert!(check_literal(&lit, false).is_err());
        assert!(check_literal(&lit, true).is_ok());
    }
}
