//! The web console's pages, rendered on the server: plain HTML, one small stylesheet inline,
//! charts as SVG (`svg.rs`), no script and nothing fetched from elsewhere, so it works offline
//! and with the keyboard (native links and form controls, a skip link, visible focus). The
//! handlers (`http::console`) sign in, fetch and call these.

pub mod campaigns;
pub mod handlers;
pub mod svg;

use std::collections::BTreeMap;

use shoplook_domain::trends::cells::Level;
use shoplook_domain::trends::{Report, Row};

/// HTML-escapes text for element content and quoted attributes.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

const STYLE: &str = "
*{box-sizing:border-box}body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#f6f6f4}
header,main{padding:12px 16px;max-width:1100px;margin:auto}header{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;justify-content:space-between}
h1{font-size:1.3em;margin:0}h2{font-size:1.1em;margin:1.4em 0 .4em}section{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px 14px;margin:12px 0}
a:focus,button:focus,input:focus,select:focus,summary:focus{outline:3px solid #f90;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:4px}
form.filters{display:flex;flex-wrap:wrap;gap:8px;align-items:end}label{display:flex;flex-direction:column;font-size:.9em}
input,select,button{font:inherit;padding:4px 6px}.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #eee;white-space:nowrap}td.n{text-align:right;font-variant-numeric:tabular-nums}
.hidden-figure{color:#999}.chart{width:100%;height:auto;max-height:300px}.grid{stroke:#e5e5e5}.tick{font-size:11px;fill:#666}
.legend span{margin-right:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
.looks{display:flex;flex-wrap:wrap;gap:12px}.look{border:1px solid #ddd;border-radius:6px;padding:8px;width:260px}
.thumbs{display:flex;gap:4px}.thumbs img,.thumbs svg{width:60px;height:60px;object-fit:cover;border-radius:4px;background:#eee}
.note{font-size:.9em;color:#555}.banner{background:#fff3cd;padding:6px 10px;border-radius:4px}
@media (max-width:600px){body{font-size:14px}.look{width:100%}}";

/// A whole page around `body`.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · ShopLook console</title><style>{STYLE}</style></head><body>\
         <a class=\"skip\" href=\"#main\">Skip to content</a>{body}</body></html>",
        esc(title)
    )
}

/// The sign-in form (`error`: why the last attempt failed).
pub fn sign_in(error: Option<&str>) -> String {
    let err = error.map_or(String::new(), |e| {
        format!(
            "<p role=\"alert\" class=\"banner\" id=\"sign-in-error\">{}</p>",
            esc(e)
        )
    });
    page(
        "Sign in",
        &format!(
            "<header><h1>ShopLook console</h1></header><main id=\"main\"><section>\
             <h2>Sign in with an API key</h2>{err}\
             <form method=\"post\" action=\"/console/sign-in\">\
             <label for=\"key\">API key</label>\
             <input id=\"key\" name=\"key\" type=\"password\" autocomplete=\"off\" required \
             size=\"40\" placeholder=\"slk_…\"> <button type=\"submit\">Sign in</button></form>\
             <p class=\"note\">The key is kept in a cookie of this site only (HttpOnly, \
             SameSite=Strict) until you sign out or close the browser. Brand keys see their \
             brand and the market totals; admin keys see everything; app keys see no reports.</p>\
             </section></main>"
        ),
    )
}

/// What the dashboard shows besides the report.
pub struct Dashboard<'a> {
    pub key_name: &'a str,
    pub role: &'a str,
    pub brand: Option<&'a str>,
    /// `None`: this key may see no reports.
    pub report: Option<&'a Report>,
    pub products: u64,
    pub in_stock: u64,
    pub index_size: u64,
    pub events: u64,
    /// The query string of the filters (`granularity=week&...`).
    pub granularity: &'a str,
    pub period: u32,
    pub category: Option<&'a str>,
    pub categories: Vec<String>,
    /// The sponsored campaigns this key may see (`None`: its role sees none).
    pub campaigns: Option<&'a [campaigns::CampaignRow]>,
}

fn num(v: Option<u64>) -> String {
    v.map_or(
        "<td class=\"n hidden-figure\" data-suppressed=\"1\" title=\"hidden: fewer than k sessions, possibly none\">–</td>".into(),
        |v| format!("<td class=\"n\">{v}</td>"),
    )
}

fn pct(v: Option<f64>) -> String {
    v.map_or("<td class=\"n\">–</td>".into(), |v| {
        format!("<td class=\"n\">{:+.0}%</td>", v * 100.0)
    })
}

fn rows_table(id: &str, caption: &str, rows: &[&Row], with_brand: bool) -> String {
    let mut out = format!(
        "<div class=\"scroll\"><table id=\"{id}\"><caption class=\"note\">{}</caption><thead><tr>\
         <th scope=\"col\">Period</th><th scope=\"col\">Category</th>{}\
         <th scope=\"col\">Searches</th><th scope=\"col\">Taps</th><th scope=\"col\">Purchases</th>\
         <th scope=\"col\">Conversion</th><th scope=\"col\">Taps vs week before</th></tr></thead><tbody>",
        esc(caption),
        if with_brand {
            "<th scope=\"col\">Brand</th>"
        } else {
            ""
        }
    );
    for r in rows {
        out += &format!(
            "<tr data-bucket=\"{}\" data-category=\"{}\" data-brand=\"{}\"><td>{}</td><td>{}</td>{}",
            esc(&r.bucket),
            esc(&r.category),
            esc(r.brand.as_deref().unwrap_or("")),
            esc(&r.bucket),
            esc(&r.category),
            if with_brand {
                format!("<td>{}</td>", esc(r.brand.as_deref().unwrap_or("")))
            } else {
                String::new()
            }
        );
        let searches = if r.level == Level::Category {
            num(r.searches)
        } else {
            "<td class=\"n\">·</td>".into()
        };
        out += &format!(
            "{searches}{}{}{}{}</tr>",
            num(r.taps),
            num(r.purchases),
            r.conversion
                .map_or("<td class=\"n\">–</td>".into(), |c| format!(
                    "<td class=\"n\">{:.1}%</td>",
                    c * 100.0
                )),
            pct(r.taps_growth)
        );
    }
    out + "</tbody></table></div>"
}

/// `link` if it may be put in an `href` or `src`: an absolute http(s) address with a host and
/// no white space or control characters (feeds and the API accept any text as an image, so
/// `javascript:`, `data:` or a scheme hidden behind white space must not reach the page).
pub fn web_link(link: &str) -> Option<&str> {
    let lower = link.get(..8).unwrap_or(link).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &link[8..]
    } else if lower.starts_with("http://") {
        &link[7..]
    } else {
        return None;
    };
    let host_ok = rest
        .split(['/', '?', '#'])
        .next()
        .is_some_and(|h| !h.is_empty());
    let clean = !link.chars().any(|c| c.is_whitespace() || c.is_control());
    (host_ok && clean).then_some(link)
}

/// A product's picture: its image when it is a web address, else a drawn placeholder.
fn thumb(image: &str, title: &str) -> String {
    if let Some(src) = web_link(image) {
        format!(
            "<img src=\"{}\" alt=\"{}\" loading=\"lazy\" referrerpolicy=\"no-referrer\">",
            esc(src),
            esc(title)
        )
    } else {
        let initials: String = title
            .split_whitespace()
            .filter(|w| w.chars().all(|c| !c.is_uppercase()) || w.len() > 1)
            .filter_map(|w| w.chars().next())
            .take(2)
            .collect();
        format!(
            "<svg viewBox=\"0 0 60 60\" role=\"img\" aria-label=\"{}\"><rect width=\"60\" \
             height=\"60\" fill=\"#dfe7ef\"/><text x=\"30\" y=\"36\" text-anchor=\"middle\" \
             font-size=\"18\" fill=\"#456\">{}</text></svg>",
            esc(title),
            esc(&initials.to_uppercase())
        )
    }
}

/// Sums of the published figures per bucket of some rows (hidden figures count nothing; a
/// bucket with none published is a gap).
fn per_bucket(report: &Report, rows: &[&Row], f: impl Fn(&Row) -> Option<u64>) -> Vec<Option<u64>> {
    let mut sums: BTreeMap<&str, (u64, usize, usize)> = BTreeMap::new();
    for r in rows {
        let e = sums.entry(r.bucket.as_str()).or_default();
        e.2 += 1;
        if let Some(v) = f(r) {
            e.0 += v;
            e.1 += 1;
        }
    }
    report
        .buckets
        .iter()
        .map(|b| match sums.get(b.as_str()) {
            None => Some(0),
            Some((_, 0, _)) => None,
            Some((sum, _, _)) => Some(*sum),
        })
        .collect()
}

mod dashboard;
pub use dashboard::dashboard;

#[cfg(test)]
#[path = "links_tests.rs"]
mod links_tests;
