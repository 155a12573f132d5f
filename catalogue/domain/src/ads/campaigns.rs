//! Sponsored-product campaigns as advertisers manage them (`/v1/campaigns`): the rules a new
//! campaign must follow, and the service that creates, lists, pauses and reports campaigns for
//! advertiser keys (their own campaigns: those made by a key of the same name) and admin keys
//! (every campaign). Another advertiser's campaign is `NotFound`, as if it did not exist.
//! Every write drops the ad system's cache of live campaigns, so the next search sees it.

use std::sync::Arc;

use serde::Deserialize;

use super::report::{CampaignView, Report};
use super::{Ads, AdsConfig, MAX_BID_CENTS, MAX_DAILY_BUDGET_CENTS, MAX_FREQUENCY_CAP};
use crate::error::{CatError, CatResult, Missing};
use crate::rules::{TextError, check_text, may_exist, quoted};
use crate::store::campaigns::{Campaign, Pacing, day_of};
use crate::store::{KeyInfo, Role, Store};

/// Latest time a campaign may start or end (2200-01-01, Unix seconds).
pub const MAX_TIME: i64 = 7_258_118_400;
/// Longest campaign name (characters).
pub const MAX_NAME_CHARS: usize = 200;
/// Longest product id (characters).
pub const MAX_PRODUCT_ID_CHARS: usize = 200;

/// A new campaign as an advertiser asks for it (`POST /v1/campaigns` body).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignRequest {
    pub name: String,
    pub product_id: String,
    pub bid_cents: i64,
    pub daily_budget_cents: i64,
    #[serde(default)]
    pub pacing: Option<Pacing>,
    #[serde(default)]
    pub frequency_cap: Option<i64>,
    #[serde(default)]
    pub starts_at: Option<i64>,
    #[serde(default)]
    pub ends_at: Option<i64>,
}

/// Why a campaign request is refused; the Display is the message clients see, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CampaignError {
    #[error("`name` {0}")]
    Name(#[source] TextError),
    #[error("`product_id` must be 1-{MAX_PRODUCT_ID_CHARS} characters without control characters")]
    ProductId,
    #[error(
        "`bid_cents` must be {reserve}..={MAX_BID_CENTS} (cents per click; {reserve} is the \
         reserve price), not {bid}"
    )]
    Bid { bid: i64, reserve: i64 },
    #[error(
        "`daily_budget_cents` must be 1..={MAX_DAILY_BUDGET_CENTS} (cents per UTC day), not {0}"
    )]
    DailyBudget(i64),
    #[error(
        "`frequency_cap` must be 1..={MAX_FREQUENCY_CAP} (ads per app session per day), not {0}"
    )]
    FrequencyCap(i64),
    #[error("`starts_at` must be 0..={MAX_TIME} (Unix seconds)")]
    StartsAt(i64),
    #[error("`ends_at` must be at most {MAX_TIME} (Unix seconds)")]
    EndsTooLate(i64),
    #[error("`ends_at` ({end}) is in the past (now {now})")]
    EndsInThePast { end: i64, now: i64 },
    #[error("`ends_at` ({end}) must be after `starts_at` ({starts_at})")]
    EndsBeforeStart { end: i64, starts_at: i64 },
    #[error("unknown product {}: a campaign promotes a product of the catalogue", quoted(.0))]
    UnknownProduct(String),
}

impl From<CampaignError> for CatError {
    fn from(e: CampaignError) -> Self {
        CatError::invalid(e)
    }
}

/// Checks a campaign request at `now` against `cfg` and makes the campaign of `advertiser`
/// (whether the product exists is the store's to say: [`CampaignService::create`]).
pub fn validate(
    req: CampaignRequest,
    advertiser: &str,
    now: i64,
    cfg: &AdsConfig,
) -> Result<Campaign, CampaignError> {
    check_text(&req.name, MAX_NAME_CHARS, false).map_err(CampaignError::Name)?;
    if !(1..=MAX_PRODUCT_ID_CHARS).contains(&req.product_id.chars().count())
        || !may_exist(&req.product_id)
    {
        return Err(CampaignError::ProductId);
    }
    let reserve = cfg.reserve_cents.max(1);
    if !(reserve..=MAX_BID_CENTS).contains(&req.bid_cents) {
        return Err(CampaignError::Bid {
            bid: req.bid_cents,
            reserve,
        });
    }
    if !(1..=MAX_DAILY_BUDGET_CENTS).contains(&req.daily_budget_cents) {
        return Err(CampaignError::DailyBudget(req.daily_budget_cents));
    }
    let cap = req.frequency_cap.unwrap_or(i64::from(cfg.frequency_cap));
    if !(1..=MAX_FREQUENCY_CAP).contains(&cap) {
        return Err(CampaignError::FrequencyCap(cap));
    }
    let starts_at = req.starts_at.unwrap_or(now);
    if !(0..=MAX_TIME).contains(&starts_at) {
        return Err(CampaignError::StartsAt(starts_at));
    }
    // A past end is the more useful message when `starts_at` defaults to now.
    if let Some(end) = req.ends_at {
        if end > MAX_TIME {
            return Err(CampaignError::EndsTooLate(end));
        }
        if end <= now {
            return Err(CampaignError::EndsInThePast { end, now });
        }
        if end <= starts_at {
            return Err(CampaignError::EndsBeforeStart { end, starts_at });
        }
    }
    Ok(Campaign {
        id: format!("cmp_{}", crate::random_hex(8)),
        advertiser: advertiser.to_string(),
        name: req.name,
        product_id: req.product_id,
        bid_cents: req.bid_cents,
        daily_budget_cents: req.daily_budget_cents,
        pacing: req.pacing.unwrap_or(Pacing::Even),
        frequency_cap: cap as u32,
        starts_at,
        ends_at: req.ends_at,
        paused: false,
        created_at: now,
        spent_today_cents: 0,
    })
}

/// Whether `id` could name a campaign (`cmp_` + 16 lowercase hex digits).
pub fn campaign_id_shape(id: &str) -> bool {
    id.len() == 20
        && id.starts_with("cmp_")
        && id[4..]
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whose campaigns a key manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CampaignScope<'a> {
    /// An admin key: every campaign.
    All,
    /// An advertiser key: those it made (its id).
    Own(&'a str),
}

impl<'a> CampaignScope<'a> {
    /// The scope of `key`; `None`: its role manages no campaigns.
    pub fn of(key: &'a KeyInfo) -> Option<Self> {
        match key.role {
            Role::Admin => Some(CampaignScope::All),
            Role::Advertiser => Some(CampaignScope::Own(&key.id)),
            _ => None,
        }
    }

    fn owner(self) -> Option<&'a str> {
        match self {
            CampaignScope::All => None,
            CampaignScope::Own(name) => Some(name),
        }
    }

    fn covers(self, c: &Campaign) -> bool {
        self.owner().is_none_or(|name| c.advertiser == name)
    }
}

/// Campaigns of one server: created, listed, paused and reported for the keys that manage
/// them. Blocking (store calls).
pub struct CampaignService {
    store: Arc<dyn Store>,
    /// The ad system whose cache every write drops; `None`: this server serves no ads.
    ads: Option<Arc<Ads>>,
    /// What campaigns are checked against and shown with (the defaults without ads).
    config: AdsConfig,
}

impl CampaignService {
    pub fn new(store: Arc<dyn Store>, ads: Option<Arc<Ads>>) -> Self {
        let config = ads
            .as_ref()
            .map_or_else(AdsConfig::default, |a| a.config().clone());
        CampaignService { store, ads, config }
    }

    pub fn config(&self) -> &AdsConfig {
        &self.config
    }

    /// Checks `req` ([`validate`]) and that its product is in the catalogue, then stores the
    /// campaign of `advertiser`.
    pub fn create(&self, req: CampaignRequest, advertiser: &str, now: i64) -> CatResult<Campaign> {
        let campaign = validate(req, advertiser, now, &self.config)?;
        if self.store.get(&campaign.product_id)?.is_none() {
            return Err(CampaignError::UnknownProduct(campaign.product_id).into());
        }
        self.store.create_campaign(&campaign)?;
        self.changed();
        Ok(campaign)
    }

    /// The campaigns of `scope`, with what they spent on the UTC day of `now`.
    pub fn list(&self, scope: CampaignScope, now: i64) -> CatResult<Vec<Campaign>> {
        self.store.campaigns(scope.owner(), day_of(now))
    }

    /// The campaign `id` if `scope` covers it, else `NotFound`.
    pub fn get(&self, scope: CampaignScope, id: &str, now: i64) -> CatResult<Campaign> {
        let missing = || CatError::NotFound(Missing::Campaign(id.to_string()));
        if !campaign_id_shape(id) {
            return Err(missing());
        }
        match self.store.campaign(id, day_of(now))? {
            Some(c) if scope.covers(&c) => Ok(c),
            _ => Err(missing()),
        }
    }

    /// Pauses or resumes the campaign `id` ([`Self::get`] says whether `scope` may).
    pub fn set_paused(
        &self,
        scope: CampaignScope,
        id: &str,
        paused: bool,
        now: i64,
    ) -> CatResult<Campaign> {
        let mut c = self.get(scope, id, now)?;
        self.store.set_paused(&c.id, paused)?;
        self.changed();
        c.paused = paused;
        Ok(c)
    }

    /// The per-day report of a campaign.
    pub fn report(&self, c: &Campaign) -> CatResult<Report> {
        Ok(Report::new(
            &c.id,
            &self.config.currency,
            &self.store.campaign_days(&c.id)?,
        ))
    }

    /// A campaign as shown at `now`.
    pub fn view(&self, c: &Campaign, now: i64) -> CampaignView {
        CampaignView::new(c, now, &self.config.currency)
    }

    /// The live campaigns changed: the next search reads them again.
    fn changed(&self) {
        if let Some(ads) = &self.ads {
            ads.changed();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> CampaignRequest {
        CampaignRequest {
            name: "Boots".into(),
            product_id: "p1".into(),
            bid_cents: 50,
            daily_budget_cents: 1000,
            pacing: None,
            frequency_cap: None,
            starts_at: None,
            ends_at: None,
        }
    }

    #[test]
    fn a_plain_campaign_gets_the_defaults() {
        let c = validate(req(), "acme", 1000, &AdsConfig::default()).unwrap();
        assert!(campaign_id_shape(&c.id), "{}", c.id);
        assert_eq!((c.advertiser.as_str(), c.starts_at), ("acme", 1000));
        assert_eq!(
            (c.pacing, c.frequency_cap, c.ends_at),
            (Pacing::Even, 3, None)
        );
    }

    /// A field's name and a change that makes it invalid.
    type Spoiler = (&'static str, Box<dyn Fn(&mut CampaignRequest)>);

    #[test]
    fn each_bad_field_is_refused_with_its_name() {
        let cfg = AdsConfig::default();
        let bad: Vec<Spoiler> = vec![
            ("name", Box::new(|r| r.name = " ".into())),
            ("name", Box::new(|r| r.name = "x".repeat(201))),
            ("product_id", Box::new(|r| r.product_id = "".into())),
            ("product_id", Box::new(|r| r.product_id = "a\u{0}b".into())),
            ("product_id", Box::new(|r| r.product_id = "x".repeat(201))),
            ("bid_cents", Box::new(|r| r.bid_cents = -5)),
            ("bid_cents", Box::new(|r| r.bid_cents = 0)),
            ("bid_cents", Box::new(|r| r.bid_cents = 4)),
            ("bid_cents", Box::new(|r| r.bid_cents = MAX_BID_CENTS + 1)),
            ("daily_budget_cents", Box::new(|r| r.daily_budget_cents = 0)),
            ("frequency_cap", Box::new(|r| r.frequency_cap = Some(0))),
            ("starts_at", Box::new(|r| r.starts_at = Some(-1))),
            ("ends_at", Box::new(|r| r.ends_at = Some(900))),
            (
                "ends_at",
                Box::new(|r| {
                    r.starts_at = Some(5000);
                    r.ends_at = Some(4000)
                }),
            ),
            ("ends_at", Box::new(|r| r.ends_at = Some(MAX_TIME + 1))),
        ];
        for (field, spoil) in bad {
            let mut r = req();
            spoil(&mut r);
            let e = validate(r, "acme", 1000, &cfg).unwrap_err();
            let msg = e.to_string();
            assert!(msg.starts_with(&format!("`{field}` ")), "{field}: {msg}");
            assert!(matches!(CatError::from(e), CatError::Invalid(_)));
        }
    }

    #[test]
    fn the_messages_are_the_ones_clients_read() {
        let cfg = AdsConfig::default();
        let mut r = req();
        r.bid_cents = 4;
        assert_eq!(
            validate(r, "acme", 1000, &cfg).unwrap_err().to_string(),
            "`bid_cents` must be 5..=100000 (cents per click; 5 is the reserve price), not 4"
        );
        let mut r = req();
        r.ends_at = Some(900);
        assert_eq!(
            validate(r, "acme", 1000, &cfg).unwrap_err().to_string(),
            "`ends_at` (900) is in the past (now 1000)"
        );
    }

    #[test]
    fn only_campaign_shaped_ids_are_looked_up() {
        assert!(campaign_id_shape("cmp_0123456789abcdef"));
        for bad in [
            "cmp_0123456789ABCDEF",
            "cmp_123",
            "xyz_0123456789abcdef",
            "",
        ] {
            assert!(!campaign_id_shape(bad), "{bad}");
        }
    }

    /// A key whose id is its name with `key_` in front.
    fn key(name: &str, role: Role) -> KeyInfo {
        KeyInfo {
            id: format!("key_{name}"),
            name: name.into(),
            role,
        }
    }

    /// A real embedded store holding product `p1`.
    fn service() -> CampaignService {
        CampaignService::new(crate::search::tests::store_with_p1(), None)
    }

    #[test]
    fn a_campaign_for_an_unknown_product_is_refused_and_not_stored() {
        let svc = service();
        let mut r = req();
        r.product_id = "nope".into();
        let e = svc.create(r, "acme", 1000).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown product \"nope\": a campaign promotes a product of the catalogue"
        );
        assert!(matches!(e, CatError::Invalid(_)));
        assert!(svc.list(CampaignScope::All, 1000).unwrap().is_empty());
    }

    fn scope_of(k: &KeyInfo) -> CampaignScope<'_> {
        CampaignScope::of(k).unwrap()
    }

    #[test]
    fn advertisers_see_their_own_campaigns_and_admins_all() {
        let svc = service();
        let acme = key("acme", Role::Advertiser);
        let other = key("other", Role::Advertiser);
        let admin = key("root", Role::Admin);
        // Another advertiser key given the same name: a different key, not the owner.
        let namesake = KeyInfo {
            id: "key_namesake".into(),
            ..acme.clone()
        };
        let c = svc.create(req(), &acme.id, 1000).unwrap();
        assert!(svc.get(scope_of(&namesake), &c.id, 1000).is_err());
        assert!(
            svc.set_paused(scope_of(&namesake), &c.id, true, 1000)
                .is_err()
        );
        assert!(svc.list(scope_of(&namesake), 1000).unwrap().is_empty());
        let scope = scope_of;
        assert_eq!(svc.get(scope(&acme), &c.id, 1000).unwrap().id, c.id);
        assert_eq!(svc.get(scope(&admin), &c.id, 1000).unwrap().id, c.id);
        let hidden = svc.get(scope(&other), &c.id, 1000).unwrap_err();
        assert!(matches!(hidden, CatError::NotFound(_)), "{hidden}");
        assert!(svc.set_paused(scope(&other), &c.id, true, 1000).is_err());
        assert_eq!(svc.list(scope(&other), 1000).unwrap().len(), 0);
        assert_eq!(svc.list(scope(&acme), 1000).unwrap().len(), 1);
        let paused = svc.set_paused(scope(&acme), &c.id, true, 1000).unwrap();
        assert!(paused.paused);
        assert!(svc.get(scope(&admin), &c.id, 1000).unwrap().paused);
        assert_eq!(CampaignScope::of(&key("app", Role::App)), None);
    }
}
