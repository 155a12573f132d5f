//! The console's campaigns section: each sponsored-product campaign the key may see (an
//! advertiser its own, an admin every one) with today's spend against its budget and the totals
//! of its report. The figures are the same objects `/v1/campaigns` and its report answer with.

use super::esc;
use shoplook_domain::ads::report::{CampaignView, Report};

/// One campaign as the console shows it.
pub struct CampaignRow {
    pub view: CampaignView,
    pub report: Report,
}

/// `12.34 EUR` of an amount in cents.
fn money(cents: i64, currency: &str) -> String {
    format!(
        "{}.{:02} {}",
        cents / 100,
        (cents % 100).abs(),
        esc(currency)
    )
}

/// The section (`rows` empty: a line saying there are none, and how to make one).
pub fn section(rows: &[CampaignRow]) -> String {
    let mut out = String::from(
        "<section id=\"campaigns\"><h2>Sponsored campaigns</h2><p class=\"note\">An ad is shown \
         only beside searches that look like its product; a click is charged once, never past \
         the daily budget.</p>",
    );
    if rows.is_empty() {
        return out
            + "<p class=\"note\">No campaigns yet: an advertiser key creates them with \
               <code>POST /v1/campaigns</code>.</p></section>";
    }
    out += "<div class=\"scroll\"><table id=\"campaign-table\"><thead><tr>\
            <th scope=\"col\">Campaign</th><th scope=\"col\">Advertiser</th>\
            <th scope=\"col\">Product</th><th scope=\"col\">Status</th>\
            <th scope=\"col\">Bid per click</th><th scope=\"col\">Spent today / budget</th>\
            <th scope=\"col\">Impressions</th><th scope=\"col\">Clicks</th>\
            <th scope=\"col\">Click rate</th><th scope=\"col\">Spend</th></tr></thead><tbody>";
    for CampaignRow { view: v, report: r } in rows {
        let t = &r.total;
        out += &format!(
            "<tr data-campaign=\"{}\" data-advertiser=\"{}\" data-spend-cents=\"{}\" \
             data-clicks=\"{}\" data-impressions=\"{}\"><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td class=\"n\">{}</td><td class=\"n\">{} / {}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{:.1}%</td><td class=\"n\">{}</td></tr>",
            esc(&v.id),
            esc(&v.advertiser),
            t.spend_cents,
            t.clicks,
            t.impressions,
            esc(&v.name),
            esc(&v.advertiser),
            esc(&v.product_id),
            v.status,
            money(v.bid_cents, &v.currency),
            money(v.spent_today_cents, &v.currency),
            money(v.daily_budget_cents, &v.currency),
            t.impressions,
            t.clicks,
            t.click_rate * 100.0,
            money(t.spend_cents, &v.currency),
        );
    }
    out + "</tbody></table></div></section>"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_shown_in_major_units() {
        assert_eq!(money(0, "EUR"), "0.00 EUR");
        assert_eq!(money(1505, "EUR"), "15.05 EUR");
        assert_eq!(money(100_000, "USD"), "1000.00 USD");
    }
}
