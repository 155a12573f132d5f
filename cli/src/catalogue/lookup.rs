//! `shoplook lookup PHOTO --server URL --api-key KEY`: the client side of the catalogue.
//! Analyses the photo on this machine (`shoplook-core`), searches each detected item in its
//! own category (or a user-drawn `--region`, or the whole photo) through the catalogue's HTTP
//! API (`CatalogueClient`), and prints the products with their purchase links.

use std::path::{Path, PathBuf};

use clap::Args;
use shoplook_core::client::CatalogueClient;
use shoplook_core::wire::{SearchFilters, SearchHit};
use shoplook_core::{AnalyzeOptions, Rect};

use super::EngineArgs;
use crate::error::{CliError, CliResult, RegionError};

/// `shoplook lookup PHOTO --server URL --api-key KEY`
#[derive(Args, Debug)]
pub struct LookupArgs {
    pub photo: PathBuf,
    /// Catalogue server, e.g. http://127.0.0.1:8787
    #[arg(long, env = "SHOPLOOK_SERVER")]
    pub server: String,
    #[arg(long, env = "SHOPLOOK_API_KEY", hide_env_values = true)]
    pub api_key: String,
    /// Search with this region only (what a user draws): x,y,width,height in photo pixels.
    #[arg(long, value_name = "x,y,w,h", value_parser = parse_region)]
    pub region: Option<Rect>,
    /// Products per item.
    #[arg(short, long, default_value_t = 3)]
    pub k: usize,
    /// At most this many items of the photo.
    #[arg(long, default_value_t = 5)]
    pub max_items: usize,
    /// Search every category, not only the item's.
    #[arg(long)]
    pub any_category: bool,
    /// Also look up each person's top, bottoms, shoes, headwear and eyewear (the pose model;
    /// they come in addition to `--max-items`).
    #[arg(long)]
    pub pose: bool,
    #[arg(long)]
    pub max_price: Option<f64>,
    #[arg(long)]
    pub brand: Option<String>,
    #[arg(long)]
    pub in_stock: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn parse_region(s: &str) -> Result<Rect, RegionError> {
    let v: Vec<f32> = s
        .split(',')
        .map(|p| {
            p.trim()
                .parse::<f32>()
                .map_err(|source| RegionError::NotANumber {
                    part: p.to_string(),
                    source,
                })
        })
        .collect::<Result<_, _>>()?;
    match v[..] {
        [x, y, w, h] => Ok(Rect::new(x, y, w, h)),
        _ => Err(RegionError::Arity),
    }
}

/// One searched item of a lookup.
#[derive(Debug, serde::Serialize)]
pub struct LookedUp {
    pub label: String,
    pub category: String,
    pub score: f32,
    pub bbox: Rect,
    /// The person the item belongs to (`--pose`): their outfit and garments share it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person_id: Option<u32>,
    /// The category the results were restricted to (None: all categories).
    pub searched_category: Option<String>,
    pub query_id: String,
    pub results: Vec<SearchHit>,
}

pub fn run_lookup(args: LookupArgs) -> CliResult<()> {
    let bytes = std::fs::read(&args.photo).map_err(|source| CliError::Read {
        path: args.photo.clone(),
        source,
    })?;
    let engine = if args.pose {
        args.engine.load_with_pose()?
    } else {
        args.engine.load()?
    };
    let client = CatalogueClient::new(&args.server, &args.api_key)?;
    let filters = SearchFilters {
        max_price: args.max_price,
        brand: args.brand.clone(),
        in_stock: args.in_stock.then_some(true),
        ..SearchFilters::default()
    };
    let photo = engine.decode(&bytes)?;
    let (w, h) = (photo.original_width as f32, photo.original_height as f32);
    // (label, category, score, box, embedding, person)
    type Query = (
        String,
        String,
        f32,
        Rect,
        shoplook_core::Embedding,
        Option<u32>,
    );
    let mut queries: Vec<Query> = Vec::new();
    if let Some(r) = args.region {
        let e = engine.embed_region_of(&photo, r)?;
        queries.push(("region".into(), String::new(), 1.0, r, e, None));
    } else {
        let analysis = engine.analyze_photo(
            &photo,
            &AnalyzeOptions {
                max_items: args.max_items,
                ..AnalyzeOptions::default()
            },
        )?;
        for it in analysis.items {
            if let Some(v) = it.embedding {
                queries.push((
                    it.label,
                    it.category,
                    it.score,
                    it.bbox,
                    shoplook_core::Embedding {
                        vector: v,
                        model: analysis.embedder.clone(),
                    },
                    it.person_id,
                ));
            }
        }
        if queries.is_empty() {
            // Nothing detected: search with the whole photo.
            let e = engine.embed_image(&bytes)?;
            queries.push((
                "whole photo".into(),
                String::new(),
                1.0,
                Rect::new(0.0, 0.0, w, h),
                e,
                None,
            ));
        }
    }
    let mut found = Vec::new();
    for (label, category, score, bbox, emb, person_id) in queries {
        let mut searched = (!args.any_category && !category.is_empty()).then(|| category.clone());
        let mut resp = client.search_embedding(&emb, searched.as_deref(), args.k, &filters)?;
        if resp.results.is_empty() && searched.is_some() {
            // No product of that category: fall back to every category.
            searched = None;
            resp = client.search_embedding(&emb, None, args.k, &filters)?;
        }
        found.push(LookedUp {
            label,
            category,
            score,
            bbox,
            person_id,
            searched_category: searched,
            query_id: resp.query_id,
            results: resp.results,
        });
    }
    if args.json {
        println!(
            "{}",
            serde_json::json!({"photo": args.photo, "width": w, "height": h, "items": found})
        );
    } else {
        print_lookup(&args.photo, &found);
    }
    Ok(())
}

fn print_lookup(photo: &Path, found: &[LookedUp]) {
    println!("{}: {} item(s) looked up", photo.display(), found.len());
    for (i, f) in found.iter().enumerate() {
        let b = f.bbox;
        println!(
            "\n#{i} {}{} ({}) score {:.2} at {:.0},{:.0} {:.0}x{:.0}{}",
            f.person_id.map(|p| format!("P{p} ")).unwrap_or_default(),
            f.label,
            if f.category.is_empty() {
                "-"
            } else {
                &f.category
            },
            f.score,
            b.x,
            b.y,
            b.width,
            b.height,
            match &f.searched_category {
                Some(c) => format!(" — searched in {c}"),
                None => " — searched in all categories".into(),
            }
        );
        if f.results.is_empty() {
            println!("   no matching products");
        }
        for (j, p) in f.results.iter().enumerate() {
            println!(
                "   {}. {}{} — {} — {:.2} {} — similarity {:.2}{}\n      buy: {}",
                j + 1,
                if p.sponsored { "Sponsored · " } else { "" },
                p.title,
                if p.brand.is_empty() { "-" } else { &p.brand },
                p.price,
                p.currency,
                p.similarity,
                if p.in_stock { "" } else { " (out of stock)" },
                p.url
            );
        }
    }
}
