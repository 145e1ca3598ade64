//! The scan: pages in, findings out.
//!
//! [`Scanner`] holds what a scan needs from the watchlist (mark matcher,
//! official-photo index, products) and a [`Fetcher`] for listing photos.
//! [`Scanner::scan_pages`] parses every page, merges the views of each
//! listing (a search card and its item page), fetches and matches its
//! photos, scores it, drafts complaints for flagged listings, and records
//! everything in the store and the index. Bad pages and bad photos are
//! recorded as problems and the scan goes on.
//!
//! The same code serves replay (pages from a recording, see
//! [`recorded_pages`]) and live crawling (pages from the crawler).

use crate::fetch::progress::{Bar, Bars};
use crate::fetch::{Capture, Fetcher, ResourceKind};
use crate::judge::brand::{find_phrases, MarkMatcher};
use crate::judge::complaint::{self, Grounds};
use crate::judge::imagehash::ReferenceIndex;
use crate::judge::index::ListingIndex;
use crate::judge::score::{
    self, Evidence, Finding, GoodsClass, PhotoEvidence, SignalKind, Verdict,
};
use crate::marketplaces::{self, PageOutcome};
use crate::model::error::{Error, Result};
use crate::model::listing::{Listing, Platform};
use crate::model::recording::Recording;
use crate::model::watchlist::Watchlist;
use crate::store::{Source, Store};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// Photos examined per listing (main photo first).
pub const MAX_PHOTOS_PER_LISTING: usize = 4;
/// Photos fetched before they are matched together on all cores: enough
/// to keep two to sixteen cores busy, few enough that their bytes are a
/// few megabytes.
pub const PHOTO_BATCH: usize = 32;
/// Share of listings with a field below which a platform is reported as
/// drifting in the summary.
pub const COVERAGE_WARN_BELOW: f64 = 0.5;

/// Counts for one platform.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PlatformStats {
    pub pages: u32,
    pub blocked: u32,
    pub drift: u32,
    pub failed: u32,
    pub listings: u32,
    pub with_title: u32,
    pub with_price: u32,
    pub with_seller: u32,
    pub with_image: u32,
}

impl PlatformStats {
    /// Share of listings with title, price, seller, image.
    pub fn coverage(&self) -> [(&'static str, f64); 4] {
        let n = f64::from(self.listings.max(1));
        [
            ("title", f64::from(self.with_title) / n),
            ("price", f64::from(self.with_price) / n),
            ("seller", f64::from(self.with_seller) / n),
            ("image", f64::from(self.with_image) / n),
        ]
    }

    /// True when pages drifted or a field is mostly missing.
    pub fn drifting(&self) -> bool {
        self.drift > 0
            || (self.listings > 0
                && self
                    .coverage()
                    .iter()
                    .any(|(_, share)| *share < COVERAGE_WARN_BELOW))
    }
}

/// Something that went wrong on one page or photo; the scan went on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// `blocked`, `drift`, `http`, `fetch`, `unknown_host`, `image`.
    pub kind: String,
    pub url: String,
    pub message: String,
}

/// What a scan did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScanReport {
    pub pages_read: u32,
    pub per_platform: BTreeMap<Platform, PlatformStats>,
    /// Every listing's finding: flagged first, then review, then cleared;
    /// within a verdict by priority (see [`sort_findings`]).
    pub findings: Vec<Finding>,
    pub problems: Vec<Problem>,
    /// Cases this scan opened (flagged listings with a complaint to file
    /// and no case yet).
    pub cases_opened: Vec<String>,
    /// Rights and the agent's authorization that end within
    /// [`crate::model::watchlist::EXPIRY_WARNING_DAYS`] of the filing date.
    pub expiring: Vec<crate::model::watchlist::Expiring>,
}

impl ScanReport {
    pub fn count(&self, verdict: Verdict) -> usize {
        self.findings
            .iter()
            .filter(|f| f.verdict == verdict)
            .count()
    }
}

/// A product of the watchlist, as the scan uses it.
struct ProductInfo {
    name: String,
    /// (name, sha256, file) of each official photo. Not its bytes: 500
    /// official photos are 30–100 MB, which a daemon would hold for
    /// nothing between cycles (BENCHMARKS.md, "Scale", stop 51); a
    /// scanner made with a store has put them there already.
    officials: Vec<(String, String, PathBuf)>,
    category: String,
    msrp: f64,
    currency: String,
    /// Wholesale price and its currency, when the watchlist gives one.
    wholesale: Option<(f64, String)>,
    keywords: Vec<String>,
    image_names: Vec<String>,
    image_urls: Vec<String>,
}

/// Everything a scan needs, prepared once.
pub struct Scanner<'a> {
    wl: &'a Watchlist,
    fetcher: &'a dyn Fetcher,
    matcher: MarkMatcher,
    references: ReferenceIndex,
    /// The official set's fingerprint: listing photos' match results are
    /// cached under it ([`crate::store::hashcache`]).
    fingerprint: String,
    products: Vec<ProductInfo>,
    keywords: Vec<String>,
    /// The watchlist's goods words (`[goods_terms]`).
    goods_terms: Vec<String>,
    negative: Vec<String>,
    filing_date: NaiveDate,
    /// The analyst's decisions (the desk's), read from the store at the
    /// start of every scan that has one, applied to every finding.
    decisions: std::sync::RwLock<crate::file::decisions::Decisions>,
    /// Progress of the scan's stages (hidden unless the CLI asks).
    bars: Bars,
}

impl<'a> Scanner<'a> {
    /// Prepares a scan: builds the mark matcher and hashes the official
    /// photos. An official photo that cannot be read or decoded is an error
    /// naming the file: a scan without it would miss copies of it.
    pub fn new(
        wl: &'a Watchlist,
        fetcher: &'a dyn Fetcher,
        filing_date: NaiveDate,
    ) -> Result<Self> {
        Self::with_store(wl, fetcher, filing_date, None)
    }

    /// [`Scanner::new`], taking each official photo's hashes from the
    /// store's cache when it has them for the photo's bytes (and keeping
    /// those it computes there): a photo unchanged since an earlier scan
    /// of the folder is read, not decoded and hashed again
    /// ([`crate::store::hashcache`]).
    pub fn with_store(
        wl: &'a Watchlist,
        fetcher: &'a dyn Fetcher,
        filing_date: NaiveDate,
        store: Option<&Store>,
    ) -> Result<Self> {
        let matcher = MarkMatcher::new(
            wl.marks
                .iter()
                .map(|m| (m.mark.as_str(), m.aliases.as_slice())),
        );
        let mut references = ReferenceIndex::new();
        let mut products = Vec::new();
        for (i, p) in wl.products.iter().enumerate() {
            let mut image_names = Vec::new();
            let mut officials = Vec::new();
            for (j, img) in p.images.iter().enumerate() {
                let path = wl.image_path(img);
                let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
                let name = reference_name(img);
                let sha256 = crate::fetch::sha256_hex(&bytes);
                let prepared =
                    crate::store::hashcache::prepared_reference(store, &sha256, &bytes, &name)
                        .map_err(|e| Error::Watchlist {
                            path: wl.path.clone(),
                            line: 0,
                            column: 0,
                            field: format!("products[{i}].images[{j}]"),
                            message: format!(
                                "official image {} cannot be used: {e}",
                                path.display()
                            ),
                        })?;
                references.add_prepared(&name, &prepared);
                // The bytes the references were made from go to the store
                // now, so the scanner need not hold them (and a photo
                // changed on disk during a long crawl does not matter).
                if let Some(store) = store {
                    store.put_blob(&sha256, &bytes)?;
                }
                image_names.push(name.clone());
                officials.push((name, sha256, path));
            }
            products.push(ProductInfo {
                officials,
                name: p.name.clone(),
                category: p.category.clone(),
                msrp: p.msrp.amount,
                currency: p.msrp.currency.clone(),
                wholesale: p.wholesale.as_ref().map(|w| (w.amount, w.currency.clone())),
                keywords: p.keywords.clone(),
                image_names,
                image_urls: p.image_urls.clone(),
            });
        }
        let keywords = products.iter().flat_map(|p| p.keywords.clone()).collect();
        let fingerprint = crate::store::hashcache::official_fingerprint(
            products
                .iter()
                .flat_map(|p| &p.officials)
                .map(|(name, sha256, _)| (name.as_str(), sha256.as_str())),
        );
        if let Some(store) = store {
            crate::store::hashcache::forget_stale(store, &fingerprint);
        }
        Ok(Scanner {
            wl,
            fetcher,
            matcher,
            references,
            fingerprint,
            products,
            keywords,
            goods_terms: wl.goods_terms.keys().cloned().collect(),
            negative: wl.negative_context(),
            filing_date,
            decisions: Default::default(),
            bars: Bars::hidden(),
        })
    }

    /// Draws the scan's progress (pages loaded and parsed, photos matched,
    /// listings judged) with these bars; hidden by default.
    pub fn with_progress(mut self, bars: Bars) -> Self {
        self.bars = bars;
        self
    }

    /// Parses, examines, scores and records every page: pages → merged
    /// listings ([`Scanner::read_pages`]), their photos fetched and matched
    /// ([`Scanner::photos_of`]), then each listing judged and recorded
    /// ([`Scanner::judge_listings`]).
    pub async fn scan_pages(
        &self,
        pages: Vec<Capture>,
        store: Option<&Store>,
        index: Option<&ListingIndex>,
    ) -> Result<ScanReport> {
        let mut report = ScanReport {
            expiring: self.wl.expiring(
                self.filing_date,
                crate::model::watchlist::EXPIRY_WARNING_DAYS,
            ),
            ..ScanReport::default()
        };
        if let Some(store) = store {
            self.keep_watchlist(store)?;
            *self.decisions.write().unwrap_or_else(|e| e.into_inner()) =
                crate::file::decisions::Decisions::load(store)?;
        }
        let merged = self.read_pages(&pages, store, &mut report)?;
        let photo_cache = self.photos_of(&merged, store).await;
        self.judge_listings(&merged, &photo_cache, store, index, &mut report)?;
        sort_findings(&mut report.findings);
        Ok(report)
    }

    /// Keeps every page, parses it, and merges the views of a listing that
    /// several pages give (by key, with the pages it came from). Pages that
    /// failed, were blocked or drifted are counted and named in `report`.
    fn read_pages(
        &self,
        pages: &[Capture],
        store: Option<&Store>,
        report: &mut ScanReport,
    ) -> Result<BTreeMap<String, (Listing, Vec<Source>)>> {
        let mut merged: BTreeMap<String, (Listing, Vec<Source>)> = BTreeMap::new();
        let bar = self.bars.counter("scan: pages parsed", pages.len() as u64);
        for page in pages {
            bar.inc(1);
            report.pages_read += 1;
            if let Some(store) = store {
                store.put_page(page)?;
            }
            let (platform, url) = match marketplaces::platform_for_url(&page.url) {
                Ok(found) => found,
                Err(e) => {
                    report.problems.push(Problem {
                        kind: "unknown_host".into(),
                        url: page.url.clone(),
                        message: e.to_string(),
                    });
                    continue;
                }
            };
            let stats = report.per_platform.entry(platform).or_default();
            stats.pages += 1;
            if !page.is_success() {
                stats.failed += 1;
                report.problems.push(Problem {
                    kind: "http".into(),
                    url: page.url.clone(),
                    message: format!("HTTP {}", page.status),
                });
                continue;
            }
            let final_url = url::Url::parse(&page.final_url)
                .ok()
                .filter(|f| page.final_url != page.url && *f != url);
            let facts = marketplaces::block::ResponseFacts {
                final_url: final_url.as_ref(),
                status: Some(page.status),
            };
            let outcome = marketplaces::parse_response(
                platform,
                &url,
                &page.body,
                page.content_type.as_deref(),
                facts,
            );
            match outcome {
                PageOutcome::Ok { listings, .. } => {
                    for l in listings {
                        let source = Source {
                            url: page.url.clone(),
                            sha256: page.sha256.clone(),
                            captured_at: page.captured_at,
                        };
                        match merged.get_mut(&l.key()) {
                            Some((existing, sources)) => {
                                existing.merge_from(&l);
                                sources.push(source);
                            }
                            None => {
                                merged.insert(l.key(), (l, vec![source]));
                            }
                        }
                    }
                }
                PageOutcome::Blocked {
                    marker,
                    reason,
                    found_in,
                    ..
                } => {
                    stats.blocked += 1;
                    report.problems.push(Problem {
                        kind: "blocked".into(),
                        url: page.url.clone(),
                        message: format!(
                            "{reason} (marker {marker}, in the {})",
                            found_in.describe()
                        ),
                    });
                }
                PageOutcome::Drift {
                    page: kind,
                    missing,
                    detail,
                    ..
                } => {
                    stats.drift += 1;
                    report.problems.push(Problem {
                        kind: "drift".into(),
                        url: page.url.clone(),
                        message: format!("{kind:?} page lacks {}: {detail}", missing.join(", ")),
                    });
                }
            }
        }
        bar.finish();
        Ok(merged)
    }

    /// Every listing's photos, each once, in the order the listings name
    /// them: fetched in that order, matched a batch at a time on all cores.
    async fn photos_of(
        &self,
        merged: &BTreeMap<String, (Listing, Vec<Source>)>,
        store: Option<&Store>,
    ) -> HashMap<String, PhotoResult> {
        let mut photo_urls: Vec<(&String, Platform)> = Vec::new();
        let mut seen_urls: std::collections::HashSet<&String> = std::collections::HashSet::new();
        for (listing, _) in merged.values() {
            for url in listing.images.iter().take(MAX_PHOTOS_PER_LISTING) {
                if seen_urls.insert(url) {
                    photo_urls.push((url, listing.platform));
                }
            }
        }
        let mut photo_cache: HashMap<String, PhotoResult> = HashMap::new();
        let bar = self
            .bars
            .counter("scan: photos matched", photo_urls.len() as u64);
        for batch in photo_urls.chunks(PHOTO_BATCH) {
            // A batch's photos are asked for together: the fetcher holds
            // each host to its own rate (photo CDN hosts are hosts of their
            // own), so photos on different hosts come in side by side
            // instead of one after another.
            let fetched =
                futures_util::future::join_all(batch.iter().map(|(url, platform)| async move {
                    (*url, self.fetch_photo(url, *platform, store).await)
                }))
                .await;
            photo_cache.extend(self.match_photos(fetched, store, &bar));
        }
        bar.finish();
        photo_cache
    }

    /// Scores every merged listing with its matched photos, records it in
    /// the store (opening a case for a flag) and the index.
    fn judge_listings(
        &self,
        merged: &BTreeMap<String, (Listing, Vec<Source>)>,
        photo_cache: &HashMap<String, PhotoResult>,
        store: Option<&Store>,
        index: Option<&ListingIndex>,
        report: &mut ScanReport,
    ) -> Result<()> {
        let mut to_index = Vec::new();
        let book = store
            .map(crate::file::cases::book::CaseBook::open)
            .transpose()?;
        let bar = self
            .bars
            .counter("scan: listings judged", merged.len() as u64);
        for (listing, sources) in merged.values() {
            bar.inc(1);
            let stats = report.per_platform.entry(listing.platform).or_default();
            stats.listings += 1;
            stats.with_title += u32::from(!listing.title.trim().is_empty());
            stats.with_price += u32::from(listing.price.is_some());
            stats.with_seller +=
                u32::from(listing.seller.name.is_some() || listing.seller.id.is_some());
            stats.with_image += u32::from(!listing.images.is_empty());

            let mut photos = Vec::new();
            let mut errors = Vec::new();
            for url in listing.images.iter().take(MAX_PHOTOS_PER_LISTING) {
                match photo_cache.get(url) {
                    Some(PhotoResult::Matched(p)) => photos.push(p.clone()),
                    Some(PhotoResult::NoMatch) | None => {}
                    Some(PhotoResult::Failed(msg)) => {
                        errors.push(msg.clone());
                        report.problems.push(Problem {
                            kind: "image".into(),
                            url: url.clone(),
                            message: format!("{msg} (listing {})", listing.key()),
                        });
                    }
                }
            }
            let mut finding = self.evaluate(listing, photos, sources);
            finding.errors = errors;
            if let Some(store) = store {
                let seen_at = sources
                    .iter()
                    .map(|s| s.captured_at)
                    .max()
                    .unwrap_or(DateTime::<Utc>::MIN_UTC);
                store.record(listing, sources, seen_at, &finding)?;
                // A case from the scan that flags it: export batches cases,
                // so what a scan flags is filed once, and only once.
                if let Some(book) = &book {
                    if finding.verdict == Verdict::Flag {
                        report
                            .cases_opened
                            .extend(open_cases_for(book, &finding, seen_at)?);
                    }
                }
            }
            to_index.push(listing.clone());
            report.findings.push(finding);
        }
        if let Some(index) = index {
            index.upsert(&to_index)?;
        }
        if let Some(store) = store {
            store.flush()?;
        }
        bar.finish();
        Ok(())
    }

    /// Keeps the official photos and the watchlist text in the store, so
    /// evidence can be exported from the data folder alone.
    fn keep_watchlist(&self, store: &Store) -> Result<()> {
        for p in &self.products {
            for (name, sha, path) in &p.officials {
                let photo = crate::store::OfficialPhoto {
                    name: name.clone(),
                    product: p.name.clone(),
                    published_at: p.image_urls.clone(),
                    sha256: sha.clone(),
                };
                if store.blob_size(sha)? > 0 {
                    store.put_official_record(&photo)?;
                    continue;
                }
                // A scanner made without this store: the file, if it still
                // holds the bytes the references were made from. Otherwise
                // the store keeps what it had, and the scan goes on.
                match std::fs::read(path) {
                    Ok(bytes) if crate::fetch::sha256_hex(&bytes) == *sha => {
                        store.put_official(&photo, &bytes)?
                    }
                    _ => tracing::warn!(
                        file = %path.display(),
                        "official photo changed or gone since its references were made: \
                         not kept in the store by this scan"
                    ),
                }
            }
        }
        if let Ok(text) = std::fs::read_to_string(&self.wl.path) {
            store.put_watchlist_text(&text)?;
        }
        // The documents register, so bundles carry the documents from the
        // data folder alone. The watchlist checked them when it loaded; a
        // file changed or gone since is an error naming it.
        for doc in self.wl.documents() {
            let bytes = self.wl.read_document(&doc)?;
            let stored = crate::store::StoredDocument {
                sha256: crate::fetch::sha256_hex(&bytes),
                doc,
            };
            store.put_document(&stored, &bytes)?;
        }
        Ok(())
    }

    /// Fetches a photo and keeps it in the store; a failure is the
    /// problem's message.
    async fn fetch_photo(
        &self,
        url: &str,
        platform: Platform,
        store: Option<&Store>,
    ) -> std::result::Result<Capture, String> {
        let capture = self
            .fetcher
            .fetch_photo(url, platform)
            .await
            .map_err(|e| format!("photo {url}: {e}"))?;
        if !capture.is_success() {
            return Err(format!("photo {url}: HTTP {}", capture.status));
        }
        if let Some(store) = store {
            store
                .put_page(&capture)
                .map_err(|e| format!("photo {url}: {e}"))?;
        }
        Ok(capture)
    }

    /// Matches fetched photos against the official photos, on all cores
    /// (a lookup among many look-alike official photos takes over a
    /// second of CPU, see BENCHMARKS.md). On a multi-threaded runtime (the
    /// daemon's) the runtime is told this thread blocks, so its other
    /// tasks (the status endpoint, timers) move to another worker.
    ///
    /// With a store, a photo whose bytes were matched against the same
    /// official set before (same fingerprint) takes that result from the
    /// cache, without being decoded; the others are matched and their
    /// results kept, with their hashes ([`crate::store::hashcache`]).
    fn match_photos(
        &self,
        fetched: Vec<(&String, std::result::Result<Capture, String>)>,
        store: Option<&Store>,
        bar: &Bar,
    ) -> Vec<(String, PhotoResult)> {
        use rayon::prelude::*;
        let names: Vec<&str> = self.references.names().iter().map(String::as_str).collect();
        let mut done = Vec::new();
        let mut todo = Vec::new();
        for (url, capture) in fetched {
            match capture {
                Err(msg) => done.push((url.clone(), PhotoResult::Failed(msg))),
                Ok(capture) => {
                    let cached = store.and_then(|s| {
                        crate::store::hashcache::cached_match(
                            s,
                            &self.fingerprint,
                            &capture.sha256,
                            &names,
                        )
                    });
                    match cached {
                        Some(c) => {
                            let result = photo_result(url, &capture.sha256, c.outcome(url));
                            done.push((url.clone(), result));
                        }
                        None => todo.push((url, capture)),
                    }
                }
            }
        }
        // Failed and cached photos are done; each other one counts when
        // it is matched.
        bar.inc(done.len() as u64);
        let run = || {
            todo.into_par_iter()
                .map(|(url, capture)| {
                    let result = self.match_photo(url, &capture, store);
                    bar.inc(1);
                    (url.clone(), result)
                })
                .collect::<Vec<_>>()
        };
        let matched = match tokio::runtime::Handle::try_current() {
            Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(run)
            }
            _ => run(),
        };
        done.extend(matched);
        done
    }

    /// Matches one fetched photo against the official photos, and keeps
    /// the result and the photo's hashes in the store's caches.
    fn match_photo(&self, url: &str, capture: &Capture, store: Option<&Store>) -> PhotoResult {
        use crate::store::hashcache::{self, CachedHashes, CachedMatch};
        let outcome = self.references.best_match_bytes_hashed(&capture.body, url);
        let (hashes, outcome) = match outcome {
            Ok((hashes, m)) => (Some(hashes), Ok(m)),
            Err(e) => (None, Err(e)),
        };
        if let Some(store) = store {
            if let Some(entry) = CachedMatch::of(&outcome) {
                hashcache::keep_match(store, &self.fingerprint, &capture.sha256, &entry);
                let hashes = hashes
                    .as_ref()
                    .map_or(CachedHashes::Failed, CachedHashes::of);
                hashcache::keep_photo_hashes(store, &capture.sha256, &hashes);
            }
        }
        photo_result(url, &capture.sha256, outcome)
    }

    /// Scores one listing given its matched photos (pure apart from the
    /// filing date fixed at construction).
    pub fn evaluate(
        &self,
        listing: &Listing,
        photos: Vec<PhotoEvidence>,
        sources: &[Source],
    ) -> Finding {
        let wl = self.wl;
        let text = &listing.title;
        let marks = self.matcher.find(text);
        let indicators: Vec<String> = find_phrases(text, &wl.matching.indicators)
            .into_iter()
            .map(String::from)
            .collect();
        let mut accessory: Vec<String> = find_phrases(text, &self.negative)
            .into_iter()
            .map(String::from)
            .collect();
        // "for AURORA ...": the mark is the object of "for".
        for hit in &marks {
            let before = text[..hit.start].trim_end().to_lowercase();
            if before.ends_with(" for") || before == "for" || before.ends_with("适用") {
                let phrase = format!("for {}", hit.variant);
                if !accessory.contains(&phrase) {
                    accessory.push(phrase);
                }
            }
        }
        let product_keywords: Vec<String> = find_phrases(text, &self.keywords)
            .into_iter()
            .map(String::from)
            .collect();
        let product = self.pick_product(text, &photos);
        let common_word_marks = wl
            .marks
            .iter()
            .filter(|m| m.common_word)
            .map(|m| m.mark.clone())
            .collect();
        let goods_classes = self.goods_classes(text, &marks);
        let authorized = wl.is_authorized(
            listing.platform,
            listing.seller.name.as_deref(),
            listing.seller.id.as_deref(),
        );
        let ev = Evidence {
            marks: marks.clone(),
            common_word_marks,
            goods_classes,
            indicators,
            accessory,
            product_keywords,
            photos: photos
                .iter()
                .map(|p| {
                    (
                        p.url.clone(),
                        p.sha256.clone(),
                        crate::judge::imagehash::ImageMatch {
                            reference: p.reference.clone(),
                            distance: p.distance,
                            bits: p.bits,
                            is_match: true,
                            transform: p.transform.clone(),
                            similarity: p.similarity,
                            detail: p.detail,
                            independent_samples: p.independent_samples,
                        },
                    )
                })
                .collect(),
            msrp: product.map(|p| (p.name.clone(), p.msrp, p.currency.clone())),
            wholesale: product.and_then(|p| {
                p.wholesale
                    .as_ref()
                    .map(|(amount, currency)| (p.name.clone(), *amount, currency.clone()))
            }),
            authorized,
        };
        let (score, mut verdict, signals) = score::score(listing, &ev);
        // An analyst's confirmation (unchanged listing) raises a review to
        // flag before drafting, so the confirmed listing gets its complaint.
        let decisions = self.decisions.read().unwrap_or_else(|e| e.into_inner());
        if verdict == Verdict::Review && decisions.confirms(listing) {
            verdict = Verdict::Flag;
        }
        let priority = score::priority(score, verdict, listing);
        let (drafts, needs_right) = if verdict == Verdict::Flag {
            let counterfeit_signs = signals
                .iter()
                // A 0-point price note ("not applied") is no sign of anything.
                .filter(|s| {
                    s.points > 0 && matches!(s.kind, SignalKind::Indicator | SignalKind::Price)
                })
                .map(|s| s.reason.clone())
                .collect();
            let matched_product = photos.first().and_then(|ph| {
                self.products
                    .iter()
                    .find(|p| p.image_names.contains(&ph.reference))
            });
            let grounds = Grounds {
                platform: Some(listing.platform),
                listing_url: &listing.url,
                marks: &marks,
                photos: &photos,
                counterfeit_signs,
                product: product.map(|p| (p.name.as_str(), p.category.as_str())),
                photo_published_at: matched_product
                    .map(|p| p.image_urls.clone())
                    .unwrap_or_default(),
                ..Grounds::default()
            }
            .with_signals(&signals);
            complaint::draft(wl, &grounds, self.filing_date)
        } else {
            (Vec::new(), Vec::new())
        };
        let mut finding = Finding {
            platform: listing.platform,
            listing_id: listing.id.clone(),
            url: listing.url.clone(),
            title: listing.title.clone(),
            seller: listing.seller.name.clone(),
            seller_id: listing.seller.id.clone(),
            price: listing.price.clone(),
            score,
            verdict,
            priority,
            reasons: signals.iter().map(|s| s.reason.clone()).collect(),
            signals,
            drafts,
            needs_right,
            product: product.map(|p| p.name.clone()),
            photos,
            errors: Vec::new(),
            source_urls: sources.iter().map(|s| s.url.clone()).collect(),
            decision: None,
        };
        decisions.apply(listing, &mut finding);
        finding
    }

    /// The goods words of the title whose Nice classes an unexpired
    /// trademark right of a mark found in it covers, one entry per (mark,
    /// word, class, right).
    fn goods_classes(&self, text: &str, marks: &[crate::judge::brand::MarkHit]) -> Vec<GoodsClass> {
        let mut out: Vec<GoodsClass> = Vec::new();
        if marks.is_empty() {
            return out;
        }
        for term in find_phrases(text, &self.goods_terms) {
            let classes = self
                .wl
                .goods_terms
                .get(term)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            for class in classes {
                for hit in marks {
                    for right in self
                        .wl
                        .trademarks_covering(&hit.mark, *class, self.filing_date)
                    {
                        let g = GoodsClass {
                            mark: hit.mark.clone(),
                            term: term.to_string(),
                            class: *class,
                            right: right.id.clone(),
                        };
                        if !out.contains(&g) {
                            out.push(g);
                        }
                    }
                }
            }
        }
        out
    }

    /// The product a listing is compared with: the one whose official photo
    /// it copies, else the one most of whose keywords its title names.
    fn pick_product(&self, text: &str, photos: &[PhotoEvidence]) -> Option<&ProductInfo> {
        if let Some(p) = photos.iter().find_map(|ph| {
            self.products
                .iter()
                .find(|p| p.image_names.contains(&ph.reference))
        }) {
            return Some(p);
        }
        self.products
            .iter()
            .map(|p| (find_phrases(text, &p.keywords).len(), p))
            .filter(|(n, _)| *n > 0)
            .max_by_key(|(n, _)| *n)
            .map(|(_, p)| p)
    }
}

/// The order findings are listed in: flagged first, then review, then
/// cleared; within a verdict by priority (score raised by sales, see
/// [`score::priority`]), then score, then key, so the order is stable.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        a.verdict
            .cmp(&b.verdict)
            .then(b.priority.cmp(&a.priority))
            .then(b.score.cmp(&a.score))
            .then(a.key().cmp(&b.key()))
    });
}

enum PhotoResult {
    Matched(PhotoEvidence),
    NoMatch,
    Failed(String),
}

/// A photo's result from its lookup's outcome (`sha256`: its bytes').
fn photo_result(
    url: &str,
    sha256: &str,
    outcome: Result<Option<crate::judge::imagehash::ImageMatch>>,
) -> PhotoResult {
    match outcome {
        Ok(Some(m)) if m.is_match => PhotoResult::Matched(PhotoEvidence {
            url: url.to_string(),
            sha256: sha256.to_string(),
            reference: m.reference,
            distance: m.distance,
            bits: m.bits,
            transform: m.transform,
            similarity: m.similarity,
            detail: m.detail,
            independent_samples: m.independent_samples,
        }),
        Ok(_) => PhotoResult::NoMatch,
        Err(e) => PhotoResult::Failed(e.to_string()),
    }
}

/// The name an official photo is reported by: its file name.
pub fn reference_name(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// The pages of a recording (everything that is not an image), fetched
/// through the given fetcher in manifest order, counted on a bar of
/// `bars`.
pub async fn recorded_pages(
    recording: &Recording,
    fetcher: &dyn Fetcher,
    bars: Bars,
) -> (Vec<Capture>, Vec<Problem>) {
    let mut pages = Vec::new();
    let mut problems = Vec::new();
    let is_page = |content_type: &str| {
        !content_type
            .trim()
            .to_ascii_lowercase()
            .starts_with("image/")
    };
    let wanted = recording
        .pages()
        .iter()
        .filter(|p| is_page(&p.content_type))
        .count();
    let bar = bars.counter("scan: pages loaded", wanted as u64);
    for page in recording.pages() {
        if !is_page(&page.content_type) {
            continue;
        }
        bar.inc(1);
        match fetcher.fetch(&page.url, ResourceKind::Page).await {
            Ok(c) => pages.push(c),
            Err(e) => problems.push(Problem {
                kind: "fetch".into(),
                url: page.url.clone(),
                message: e.to_string(),
            }),
        }
    }
    bar.finish();
    (pages, problems)
}

/// Opens the cases of a flagged finding. A listing the analyst confirmed
/// in the desk before it had a draft gets its case approved at once, in
/// the analyst's name.
fn open_cases_for(
    book: &crate::file::cases::book::CaseBook,
    finding: &Finding,
    seen_at: DateTime<Utc>,
) -> Result<Vec<String>> {
    let mut opened = Vec::new();
    for case in book.open_cases(finding, seen_at, None, "scan")? {
        // The analyst confirmed this listing in the desk before it had a
        // draft: the case opens approved, in the analyst's name.
        let confirmed = finding
            .decision
            .as_ref()
            .filter(|d| d.action == crate::file::decisions::Action::Confirmed);
        if let Some(d) = confirmed {
            let at = d.at.max(case.since());
            if let Err(e) = book.move_case(
                &case.id,
                crate::file::cases::state::CaseState::Approved,
                at,
                Some("confirmed in the desk"),
                &d.by,
                None,
            ) {
                tracing::warn!(case = %case.id, "could not approve a confirmed listing's case: {e}");
            }
        }
        opened.push(case.id);
    }
    Ok(opened)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::FetchError;
    use crate::model::listing::{Price, Sales, SalesKind, Seller};

    /// Scoring needs no network: every fetch fails.
    struct NoNetwork;

    #[async_trait::async_trait]
    impl Fetcher for NoNetwork {
        async fn fetch(
            &self,
            url: &str,
            _kind: ResourceKind,
        ) -> std::result::Result<Capture, FetchError> {
            Err(FetchError::Network {
                url: url.into(),
                message: "no network in tests".into(),
            })
        }
    }

    /// AURORA is a common word, registered in 21 and 28 (CN, valid) and
    /// in 9 (US, expired); the cup has a wholesale price, the rocket not.
    const WATCHLIST: &str = r#"
[brand]
name = "AURORA"
rights_holder = "Aurora Outfitters Ltd."

[[marks]]
mark = "AURORA"
aliases = ["奥罗拉"]
common_word = true

[matching]
indicators = ["replica", "高仿"]

[[products]]
name = "Cup"
category = "drinkware"
msrp = { amount = 39.0, currency = "USD" }
wholesale = { amount = 9.0, currency = "USD" }
keywords = ["espresso cup"]

[[products]]
name = "Rocket"
category = "model kits"
msrp = { amount = 120.0, currency = "USD" }
keywords = ["model rocket"]

[categories]
"drinkware" = [21]
"model kits" = [28]

[goods_terms]
toy = [28]
"玩具" = [28]
lamp = [11]
"phone case" = [9]

[[rights]]
id = "cn-tm"
kind = "trademark"
jurisdiction = "CN"
registration_number = "41234567"
registrant = "Aurora Outfitters Ltd."
mark = "AURORA"
classes = [21, 28]
expires = 2031-09-27
certificate = "certificates/cn-41234567.pdf"

[[rights]]
id = "us-tm-old"
kind = "trademark"
jurisdiction = "US"
registration_number = "1234567"
mark = "AURORA"
classes = [9]
expires = 2020-01-01
"#;

    fn watchlist() -> Watchlist {
        Watchlist::from_str(std::path::Path::new("w.toml"), WATCHLIST).unwrap()
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 3).unwrap()
    }

    fn listing(platform: Platform, title: &str, price: Option<(f64, &str)>) -> Listing {
        Listing {
            platform,
            id: "1".into(),
            url: "https://example.invalid/1".into(),
            title: title.into(),
            price: price.map(|(amount, currency)| Price {
                amount,
                max: None,
                currency: currency.into(),
            }),
            seller: Seller {
                name: Some("Shop".into()),
                ..Seller::default()
            },
            images: vec![],
            moq: None,
            sales: None,
            location: None,
            sponsored: false,
            source_url: String::new(),
            missing: vec![],
        }
    }

    /// Title → verdict through the whole evaluation: the watchlist's goods
    /// words, its rights' classes and expiry, and the platform's kind.
    #[test]
    fn evaluate_table() {
        use Platform::*;
        use Verdict::*;
        let wl = watchlist();
        let scanner = Scanner::new(&wl, &NoNetwork, day()).unwrap();
        // (platform, title, price, score, verdict, a reason that must be there)
        type AskingPrice<'a> = Option<(f64, &'a str)>;
        let cases: &[(Platform, &str, AskingPrice, u32, Verdict, &str)] = &[
            // Goods in a registered class are context (issue 17).
            (AliExpress, "Aurora Cat Toy Feather Wand", Some((2.1, "USD")), 40, Review,
             "title matches mark \"AURORA\" (exact: \"Aurora\") — goods \"toy\" in Nice class 28, covered by cn-tm"),
            (Taobao, "极光 aurora 毛绒玩具 小夜灯", Some((29.0, "CNY")), 40, Review,
             "goods \"玩具\" in Nice class 28, covered by cn-tm"),
            (AliExpress, "Auroras Cat Toy", None, 50, Review, "(fuzzy, 1 edit: \"Auroras\") — goods \"toy\""),
            // Goods in a class the mark is not (or no longer) registered for.
            (AliExpress, "Aurora Borealis Night Lamp", None, 15, Clear, "a common word, and nothing else"),
            (AliExpress, "Aurora Gradient Phone Case", None, 15, Clear, "a common word, and nothing else"),
            // A variant of the common word needs context too.
            (AliExpress, "Auroras Night Lamp", None, 15, Clear, "a variant of a common word"),
            (AliExpress, "Aurorra Borealis Lamp", None, 15, Clear, "a variant of a common word"),
            // Wholesale platforms: the wholesale price, or no price rule.
            (Alibaba, "AURORA Espresso Cup", Some((3.0, "USD")), 55, Review,
             "price 3.00 USD is 67% below the wholesale price 9.00"),
            (S1688, "奥罗拉 Model Rocket 高仿", Some((46.0, "CNY")), 70, Flag,
             "price rule not applied: 1688 is a wholesale platform and \"Rocket\" has no wholesale price to compare 46.00 CNY with"),
            (AliExpress, "AURORA Espresso Cup", Some((3.0, "USD")), 65, Flag,
             "price 3.00 USD is 92% below MSRP 39.00"),
        ];
        for (platform, title, price, score, verdict, reason) in cases {
            let f = scanner.evaluate(&listing(*platform, title, *price), vec![], &[]);
            assert_eq!(
                (f.score, f.verdict),
                (*score, *verdict),
                "{title}: {:#?}",
                f.reasons
            );
            assert!(
                f.reasons.iter().any(|r| r.contains(reason)),
                "{title}: no {reason:?} in {:#?}",
                f.reasons
            );
        }
    }

    /// The scan keeps each official photo in the store as its references
    /// were made from it (the scanner does not hold 500 photos' bytes): a
    /// file changed after the scanner was made, during a long crawl, is
    /// neither stored nor an error that would lose the crawl; without a
    /// store when the scanner was made, a changed file is left out.
    #[test]
    fn official_photos_are_kept_as_hashed_or_not_at_all() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("watchlists");
        std::fs::copy(root.join("demo.toml"), tmp.path().join("demo.toml")).unwrap();
        for sub in ["official", "documents"] {
            std::fs::create_dir_all(tmp.path().join("demo").join(sub)).unwrap();
            for f in std::fs::read_dir(root.join("demo").join(sub)).unwrap() {
                let f = f.unwrap().path();
                let to = tmp
                    .path()
                    .join("demo")
                    .join(sub)
                    .join(f.file_name().unwrap());
                std::fs::copy(&f, to).unwrap();
            }
        }
        let wl = Watchlist::load(tmp.path().join("demo.toml")).unwrap();
        let store = Store::open(&tmp.path().join("data")).unwrap();
        let scanner = Scanner::with_store(&wl, &NoNetwork, day(), Some(&store)).unwrap();
        let cup = tmp.path().join("demo/official/espresso-cup.jpg");
        let original = std::fs::read(&cup).unwrap();
        let rocket = std::fs::read(tmp.path().join("demo/official/rocket-launch.jpg")).unwrap();
        std::fs::write(&cup, &rocket).unwrap();
        scanner.keep_watchlist(&store).unwrap();
        let cup_kept = |store: &Store| {
            store
                .officials()
                .unwrap()
                .into_iter()
                .find(|p| p.name.contains("espresso-cup"))
        };
        let photo = cup_kept(&store).expect("the cup is kept");
        assert_eq!(photo.sha256, crate::fetch::sha256_hex(&original));
        assert_eq!(store.blob(&photo.sha256).unwrap(), Some(original.clone()));
        // Made without a store: the changed file is not kept, the scan
        // goes on; the file as it was is kept.
        let other = Store::open(&tmp.path().join("other")).unwrap();
        std::fs::write(&cup, &original).unwrap();
        let scanner = Scanner::with_store(&wl, &NoNetwork, day(), None).unwrap();
        std::fs::write(&cup, &rocket).unwrap();
        scanner.keep_watchlist(&other).unwrap();
        assert!(cup_kept(&other).is_none(), "a changed file is not kept");
        std::fs::write(&cup, &original).unwrap();
        scanner.keep_watchlist(&other).unwrap();
        let photo = cup_kept(&other).expect("the file as it was is kept");
        assert_eq!(other.blob(&photo.sha256).unwrap(), Some(original));
    }

    /// A 0-point "not applied" note is not a counterfeit sign in a draft.
    #[test]
    fn price_note_is_not_a_counterfeit_sign() {
        let wl = watchlist();
        let scanner = Scanner::new(&wl, &NoNetwork, day()).unwrap();
        // A copied photo and no indicator word: a draft lists the score's
        // price and indicator signals as the signs of a fake.
        let photo = PhotoEvidence {
            url: "https://img.alicdn.com/1.jpg".into(),
            sha256: "ab".into(),
            reference: "rocket.jpg".into(),
            distance: 3,
            bits: 64,
            transform: None,
            similarity: None,
            detail: None,
            independent_samples: None,
        };
        let f = scanner.evaluate(
            &listing(Platform::S1688, "奥罗拉 Model Rocket", Some((46.0, "CNY"))),
            vec![photo],
            &[],
        );
        assert!(f.reasons.iter().any(|r| r.contains("not applied")));
        assert_eq!(f.verdict, Verdict::Flag);
        assert!(!f.drafts.is_empty(), "{:#?}", f.needs_right);
        for d in &f.drafts {
            let text = serde_json::to_string(d).unwrap();
            assert!(!text.contains("not applied"), "{text}");
        }
    }

    /// Sales raise the priority of a finding, not its verdict, and the
    /// report lists findings by verdict, then priority.
    #[test]
    fn sales_raise_priority_and_order_within_a_verdict() {
        let wl = watchlist();
        let scanner = Scanner::new(&wl, &NoNetwork, day()).unwrap();
        let mut busy = listing(Platform::AliExpress, "Aurora Cat Toy", None);
        busy.id = "2".into();
        busy.sales = Some(Sales {
            count: 4000,
            kind: SalesKind::Sold,
            text: "4000+ sold".into(),
        });
        let quiet = scanner.evaluate(
            &listing(Platform::AliExpress, "Aurora Cat Toy", None),
            vec![],
            &[],
        );
        let busy = scanner.evaluate(&busy, vec![], &[]);
        assert_eq!((quiet.score, quiet.verdict), (busy.score, busy.verdict));
        assert_eq!(quiet.priority, 40);
        assert_eq!(busy.priority, 40 + 36);
        let flagged = scanner.evaluate(
            &listing(
                Platform::AliExpress,
                "AURORA Espresso Cup",
                Some((3.0, "USD")),
            ),
            vec![],
            &[],
        );
        let mut findings = vec![quiet.clone(), flagged.clone(), busy.clone()];
        sort_findings(&mut findings);
        let order: Vec<(Verdict, u32)> = findings.iter().map(|f| (f.verdict, f.priority)).collect();
        assert_eq!(
            order,
            [
                (Verdict::Flag, 65),
                (Verdict::Review, 76),
                (Verdict::Review, 40)
            ]
        );
    }
}
