//! The dashboard page: filters, trend charts, the market and brand tables, top and rising
//! products, rising looks, catalogue size and health, and the campaigns the key may see.

use super::svg::{Series, line_chart};
use super::{Dashboard, esc, page, per_bucket, rows_table, thumb};
use shoplook_domain::trends::Row;
use shoplook_domain::trends::cells::Level;

fn filters(d: &Dashboard) -> String {
    let opt = |v: &str, label: &str, sel: bool| {
        format!(
            "<option value=\"{}\"{}>{}</option>",
            esc(v),
            if sel { " selected" } else { "" },
            esc(label)
        )
    };
    let mut cats = opt("", "all categories", d.category.is_none());
    for c in &d.categories {
        cats += &opt(c, c, d.category == Some(c.as_str()));
    }
    format!(
        "<form class=\"filters\" method=\"get\" action=\"/console\">\
         <label>By<select name=\"granularity\">{}{}</select></label>\
         <label>Last<input name=\"period\" type=\"number\" min=\"1\" max=\"84\" value=\"{}\" size=\"4\"></label>\
         <label>Category<select name=\"category\">{cats}</select></label>\
         <button type=\"submit\">Show</button></form>",
        opt("week", "week", d.granularity == "week"),
        opt("day", "day", d.granularity == "day"),
        d.period
    )
}

fn products_table(id: &str, list: &[shoplook_domain::trends::report::ProductTrend]) -> String {
    if list.is_empty() {
        return "<p class=\"note\">Nothing published yet.</p>".into();
    }
    let mut out = format!(
        "<div class=\"scroll\"><table id=\"{id}\"><thead><tr><th scope=\"col\">Product</th>\
         <th scope=\"col\">Brand</th><th scope=\"col\">Category</th><th scope=\"col\">Taps</th>\
         <th scope=\"col\">Purchases</th><th scope=\"col\">Taps, last week vs before</th></tr></thead><tbody>"
    );
    for p in list {
        out += &format!(
            "<tr data-product=\"{}\" data-brand=\"{}\"><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&p.product_id),
            esc(&p.brand),
            esc(&p.title),
            esc(&p.brand),
            esc(&p.category),
            p.taps,
            p.purchases,
            p.taps_growth
                .map_or("–".into(), |g| format!("{:+.0}%", g * 100.0))
        );
    }
    out + "</tbody></table></div>"
}

/// The signed-in page.
/// The chart lines of `rows`: taps and purchases per period, and searches when `searches`
/// (brand rows have none of their own: a search is not of a brand).
fn activity(
    r: &shoplook_domain::trends::Report,
    rows: &[&Row],
    searches: bool,
) -> Vec<Series<'static>> {
    let line = |name, colour, of: fn(&Row) -> Option<u64>| Series {
        name,
        colour,
        values: per_bucket(r, rows, of),
    };
    let mut lines = vec![
        line("taps", "#1f78b4", |x| x.taps),
        line("purchases", "#33a02c", |x| x.purchases),
    ];
    if searches {
        lines.insert(0, line("searches", "#6a3d9a", |x| x.searches));
    }
    lines
}

pub fn dashboard(d: &Dashboard) -> String {
    let who = format!(
        "<p id=\"who\">Signed in as <strong>{}</strong> (role <span id=\"role\">{}</span>{})</p>\
         <form method=\"post\" action=\"/console/sign-out\"><button type=\"submit\">Sign out</button></form>",
        esc(d.key_name),
        esc(d.role),
        d.brand.map_or(String::new(), |b| format!(
            ", brand <span id=\"brand\">{}</span>",
            esc(b)
        ))
    );
    let mut body = format!("<header><h1>ShopLook console</h1>{who}</header><main id=\"main\">");
    body += &format!(
        "<section id=\"catalogue\"><h2>Catalogue</h2><p>Products: <strong id=\"products\">{}</strong> \
         · in stock: {} · vectors in the index: {} · events logged: {}</p></section>",
        d.products, d.in_stock, d.index_size, d.events
    );
    let Some(r) = d.report else {
        body += "<section id=\"no-reports\"><h2>Trends</h2><p>This key's role may see no trend \
                 reports: they need a brand or admin key.</p></section>";
        if let Some(rows) = d.campaigns {
            body += &super::campaigns::section(rows);
        }
        return page("Console", &(body + "</main>"));
    };
    body += &format!(
        "<section><h2>Trends</h2>{}<p class=\"note\">Every figure counts at least k = {} distinct \
         shopping sessions, or is hidden (–), also where it could be worked out from other \
         figures (– may also be none at all). {}Completed weeks only.</p></section>",
        filters(d),
        r.k,
        r.epsilon.map_or(String::new(), |e| format!(
            "Figures carry Laplace noise (epsilon {e} per figure). "
        ))
    );
    let market: Vec<&Row> = r
        .rows
        .iter()
        .filter(|x| x.level == Level::Category)
        .collect();
    let brand_rows: Vec<&Row> = r.rows.iter().filter(|x| x.level == Level::Brand).collect();
    body += &format!(
        "<section><h2>Market</h2>{}",
        line_chart(
            "market-chart",
            "Market: searches, taps and purchases per period (sum of published figures)",
            &r.buckets,
            &activity(r, &market, true)
        )
    );
    body += &rows_table("market", "Per category (market level)", &market, false);
    body += "</section>";
    if let Some(b) = d.brand {
        body += &format!(
            "<section><h2>{}</h2>{}",
            esc(b),
            line_chart(
                "brand-chart",
                &format!("{b}: taps and purchases per period"),
                &r.buckets,
                &activity(r, &brand_rows, false)
            )
        );
    } else {
        body += "<section><h2>Brands</h2>";
    }
    body += &rows_table("brands", "Per brand and category", &brand_rows, true);
    body += &format!(
        "</section><section><h2>Top products</h2>{}</section>\
         <section><h2>Rising products</h2>{}</section>",
        products_table("top-products", &r.top_products),
        products_table("rising-products", &r.rising_products)
    );
    body += "<section id=\"looks\"><h2>Rising looks (last week)</h2><p class=\"note\">Groups of \
             similar searches, each shown by the catalogue products nearest its centre (shoppers' \
             photos never leave their phones).</p><div class=\"looks\">";
    if r.looks.is_empty() {
        body += "<p class=\"note\">No look large enough to show.</p>";
    }
    for l in &r.looks {
        body += &format!(
            "<div class=\"look\" data-growth=\"{}\" data-products=\"{}\"><div class=\"thumbs\">{}</div><p><strong>{}</strong> searches · {}</p>\
             <p class=\"note\">{}</p></div>",
            l.growth.map_or("new".into(), |g| format!("{g:.4}")),
            esc(&l
                .products
                .iter()
                .map(|p| p.id.as_str())
                .collect::<Vec<_>>()
                .join(" ")),
            l.products
                .iter()
                .map(|p| thumb(&p.image, &p.title))
                .collect::<String>(),
            l.searches,
            l.growth.map_or("new this week".into(), |g| format!(
                "{:+.0}% vs week before",
                g * 100.0
            )),
            esc(&l
                .products
                .iter()
                .map(|p| p.title.as_str())
                .collect::<Vec<_>>()
                .join(" · "))
        );
    }
    body += "</div></section>";
    if let Some(rows) = d.campaigns {
        body += &super::campaigns::section(rows);
    }
    page("Console", &(body + "</main>"))
}
