//! A report's rows as CSV, safe to open in a spreadsheet. Titles, brands and product ids come
//! from feeds, and a text starting with `=`, `+`, `-`, `@`, a tab or a carriage return is read
//! by spreadsheets as a formula (`=HYPERLINK(...)`, issue 22). OWASP's rule for CSV
//! injection: every such text cell gets a leading `'`, which spreadsheets show as text; the
//! CSV writer quotes and escapes the rest. The figures are numbers written here (a negative
//! growth starts with `-` and must stay a number), so only the text cells are changed.

use std::borrow::Cow;

use super::report::Report;

/// The characters that make a spreadsheet read a cell as a formula (OWASP).
pub const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A text cell as written to the CSV: with a leading `'` when it would start a formula.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    if text.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// The columns, in order.
pub const HEADER: [&str; 14] = [
    "bucket",
    "level",
    "category",
    "brand",
    "product_id",
    "title",
    "price_band",
    "searches",
    "taps",
    "purchases",
    "conversion",
    "taps_growth",
    "searches_growth",
    "suppressed",
];

/// The rows as CSV (one line per row; a suppressed figure is an empty field).
pub fn to_csv(report: &Report) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(HEADER);
    let num = |v: Option<u64>| v.map_or(String::new(), |v| v.to_string());
    let frac = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.4}"));
    let name = |v: serde_json::Value| v.as_str().unwrap_or("").to_string();
    for r in &report.rows {
        let hidden: Vec<String> = r
            .suppressed
            .iter()
            .map(|m| name(serde_json::to_value(m).unwrap_or_default()))
            .collect();
        let text = [
            r.bucket.clone(),
            name(serde_json::to_value(r.level).unwrap_or_default()),
            r.category.clone(),
            r.brand.clone().unwrap_or_default(),
            r.product_id.clone().unwrap_or_default(),
            r.title.clone().unwrap_or_default(),
            r.price_band.clone().unwrap_or_default(),
        ];
        let mut record: Vec<String> = text.iter().map(|t| neutralise(t).into_owned()).collect();
        record.extend([
            num(r.searches),
            num(r.taps),
            num(r.purchases),
            frac(r.conversion),
            frac(r.taps_growth),
            frac(r.searches_growth),
            neutralise(&hidden.join(" ")).into_owned(),
        ]);
        let _ = w.write_record(&record);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::super::cells::Level;
    use super::super::report::{Row, ViewerInfo};
    use super::super::{Granularity, Report};
    use super::*;

    #[test]
    fn each_formula_start_gets_a_quote_and_other_text_is_kept() {
        for c in FORMULA_STARTS {
            let cell = format!("{c}HYPERLINK(\"https://evil.example\",\"x\")");
            assert_eq!(neutralise(&cell), format!("'{cell}"), "{c:?}");
        }
        for plain in ["shoes", "25-50", "Acme =", " =1+1", "'quoted", "", "über"] {
            assert_eq!(neutralise(plain), plain);
        }
    }

    fn row(category: &str, brand: &str, title: &str, growth: f64) -> Row {
        Row {
            bucket: "2026-11-30".into(),
            level: Level::Product,
            category: category.into(),
            brand: Some(brand.into()),
            product_id: Some("-p1".into()),
            title: Some(title.into()),
            price_band: Some("25-50".into()),
            searches: None,
            taps: Some(21),
            purchases: None,
            conversion: None,
            taps_growth: Some(growth),
            searches_growth: None,
            suppressed: vec![],
        }
    }

    #[test]
    fn the_csv_has_no_cell_a_spreadsheet_reads_as_a_formula() {
        let report = Report {
            granularity: Granularity::Week,
            k: 20,
            epsilon: None,
            viewer: ViewerInfo {
                role: "admin",
                brand: None,
            },
            buckets: vec!["2026-11-30".into()],
            rows: vec![
                row("=cmd|' /C calc'!A0", "@SUM(A1:A9)", "+1+1", -0.25),
                row("shoes", "\tAcme", "\rTitle, \"quoted\"", 0.5),
            ],
            top_products: vec![],
            rising_products: vec![],
            looks: vec![],
            suppressed: 0,
        };
        let text = to_csv(&report);
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let mut rows = 0;
        for rec in r.records() {
            let rec = rec.unwrap();
            for (i, cell) in rec.iter().enumerate() {
                let numeric = (7..13).contains(&i);
                assert!(
                    numeric || !cell.starts_with(FORMULA_STARTS),
                    "column {} is {cell:?}",
                    HEADER[i]
                );
            }
            rows += 1;
        }
        assert_eq!(rows, 2);
        assert!(text.contains(",'=cmd|' /C calc'!A0,'@SUM(A1:A9),'-p1,'+1+1,25-50,"));
        // A negative growth stays a number.
        assert!(text.contains(",-0.2500,"), "{text}");
    }
}
