//! Brand watchlists: the TOML file that says what to look for and on what
//! rights a complaint can rest.
//!
//! A watchlist is parsed with `deny_unknown_fields` everywhere, so a typo is
//! an error and never a silent default, and then validated. Every error
//! names the file, the line and column, and the field path
//! (`products[1].msrp.amount`). Paths to official photos are relative to the
//! watchlist file.
//!
//! See `watchlists/demo.toml` for a complete example and the README for the
//! format.

use crate::model::error::{Error, Result};
use crate::model::listing::Platform;
use crate::model::recording::line_col;
use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Default words that mark a listing as an accessory or a compatible part
/// rather than the branded good itself.
pub const DEFAULT_NEGATIVE_CONTEXT: &[&str] = &[
    "compatible with",
    "compatible for",
    "for use with",
    "fits",
    "replacement for",
    "case for",
    "cover for",
    "sleeve for",
    "适用于",
    "适配",
    "兼容",
];

/// The brand being protected and who protects it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Brand {
    /// Display name of the brand.
    pub name: String,
    /// The legal owner of the rights.
    pub rights_holder: String,
    /// Its name in Chinese, for the Chinese reason text (without it, that
    /// text says "权利人", the rights holder).
    #[serde(default)]
    pub rights_holder_zh: Option<String>,
    /// Who files: the owner itself, or an agent acting for it.
    #[serde(default)]
    pub filer: Option<Filer>,
}

/// The party that files complaints.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Filer {
    /// Name of the filing party.
    pub name: String,
    /// `owner` or `agent`.
    pub role: FilerRole,
    /// For an agent: the power of attorney (authorization letter) of the
    /// rights holder, a file relative to the watchlist.
    #[serde(default)]
    pub authorization: Option<String>,
    /// When that authorization ends.
    #[serde(default, deserialize_with = "date_opt")]
    pub authorization_expires: Option<NaiveDate>,
    /// The filer's ID document or business licence (IPP asks for it when
    /// the account is set up), a file relative to the watchlist.
    #[serde(default)]
    pub identity: Option<String>,
}

/// Whether the filer is the rights holder or acts for it.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FilerRole {
    Owner,
    Agent,
}

/// A word mark and the ways it is written.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Mark {
    /// The mark as registered ("AURORA").
    pub mark: String,
    /// Other spellings that are the brand too (translations such as
    /// "奥罗拉", sub-brands).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The mark is also an everyday word ("Aurora", "Apex"): a title that
    /// merely contains it needs product context, a photo or price evidence
    /// before it counts.
    #[serde(default)]
    pub common_word: bool,
}

/// Money in one currency.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Money {
    pub amount: f64,
    pub currency: String,
}

/// A product of the brand.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub name: String,
    /// Category name; mapped to Nice classes by `[categories]`.
    pub category: String,
    /// Manufacturer's suggested retail price.
    pub msrp: Money,
    /// Unit price a genuine wholesale buyer pays (optional). Alibaba.com
    /// and 1688 are wholesale platforms: their unit prices are compared
    /// with this, never with the retail MSRP; without it the price rule is
    /// not applied there.
    #[serde(default)]
    pub wholesale: Option<Money>,
    /// Words that say a listing is this kind of product ("espresso cup",
    /// "咖啡杯"). Used for product context and to pick the MSRP.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Official photos, relative to the watchlist file.
    #[serde(default)]
    pub images: Vec<PathBuf>,
    /// Where the official photos are published (cited in copyright
    /// complaints).
    #[serde(default)]
    pub image_urls: Vec<String>,
}

/// The kind of an IP right.
#[derive(
    Debug, Clone, Copy, Deserialize, serde::Serialize, PartialEq, Eq, Hash, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RightKind {
    Trademark,
    Copyright,
    DesignPatent,
    Patent,
}

impl RightKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RightKind::Trademark => "trademark",
            RightKind::Copyright => "copyright",
            RightKind::DesignPatent => "design_patent",
            RightKind::Patent => "patent",
        }
    }
}

/// One verified IP right the complaints rest on.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Right {
    /// Short unique id used in drafts and batches ("us-tm-5123456").
    pub id: String,
    pub kind: RightKind,
    /// Country or region code where the right is valid ("US", "CN", "EU").
    pub jurisdiction: String,
    /// Registration number as on the certificate.
    pub registration_number: String,
    /// The registrant (usually the rights holder).
    #[serde(default)]
    pub registrant: Option<String>,
    /// For trademarks: the mark registered.
    #[serde(default)]
    pub mark: Option<String>,
    /// For trademarks: Nice classes covered.
    #[serde(default)]
    pub classes: Vec<u8>,
    /// Expiry date, if any (copyright often has none worth stating). A
    /// TOML date (`2031-09-27`) or a string in that form.
    #[serde(default, deserialize_with = "date_opt")]
    pub expires: Option<NaiveDate>,
    /// The registration certificate, a file relative to the watchlist,
    /// attached to complaints.
    #[serde(default)]
    pub certificate: Option<String>,
    /// Proof of ownership when the registrant is not the rights holder, or
    /// the right was renewed or assigned (renewal or assignment
    /// certificate), a file.
    #[serde(default)]
    pub ownership_proof: Option<String>,
    /// For a copyright that is not registered: the signed copyright claim
    /// statement IPP asks for instead of a certificate, a file.
    #[serde(default)]
    pub claim_statement: Option<String>,
    /// For utility/invention patents: the infringement analysis report, a
    /// file.
    #[serde(default)]
    pub analysis_report: Option<String>,
    /// Where IPP's verification of the right stands
    /// (`ipp = { status = "pending", since = 2026-11-20 }`). Without it the
    /// right counts as approved.
    #[serde(default)]
    pub ipp: Option<IppVerification>,
}

/// IPP's verification of a right: complaints rest only on approved rights.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IppVerification {
    pub status: IppStatus,
    /// Since when (the submission, approval or rejection date).
    #[serde(default, deserialize_with = "date_opt")]
    pub since: Option<NaiveDate>,
}

/// The states of IPP's verification of a right.
#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum IppStatus {
    Pending,
    Approved,
    Rejected,
}

impl IppStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            IppStatus::Pending => "pending",
            IppStatus::Approved => "approved",
            IppStatus::Rejected => "rejected",
        }
    }
}

impl Right {
    /// IPP's verification state (approved when the watchlist says nothing).
    pub fn ipp_status(&self) -> IppStatus {
        self.ipp.as_ref().map_or(IppStatus::Approved, |v| v.status)
    }

    /// Why a complaint on this right is held, not batched: IPP has not
    /// approved it yet (`None` when it has).
    pub fn held_reason(&self) -> Option<String> {
        (self.ipp_status() == IppStatus::Pending).then(|| {
            format!(
                "right {} is {} with IPP: filed once IPP approves it",
                self.id,
                self.ipp_describe()
            )
        })
    }

    /// "pending since 2026-11-20", for messages.
    pub fn ipp_describe(&self) -> String {
        match self.ipp.as_ref().and_then(|v| v.since) {
            Some(d) => format!("{} since {d}", self.ipp_status().as_str()),
            None => self.ipp_status().as_str().to_string(),
        }
    }
}

/// Days ahead within which an expiring right or authorization is warned
/// about.
pub const EXPIRY_WARNING_DAYS: i64 = 60;

/// A document of the documents register: one file the filing needs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DocumentRef {
    /// What it is ("registration certificate", "power of attorney", ...).
    pub role: String,
    /// The right it belongs to (`None`: the filer's).
    pub right_id: Option<String>,
    /// The watchlist field naming it (`rights[1].certificate`).
    pub field: String,
    /// The path as written, relative to the watchlist.
    pub path: String,
}

/// A right or authorization that ends soon (or has ended).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Expiring {
    /// What ends ("right cn-tm-aurora (trademark CN 41234567)").
    pub what: String,
    pub expires: NaiveDate,
    /// Days from today; negative when already past.
    pub days_left: i64,
}

impl std::fmt::Display for Expiring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.days_left < 0 {
            write!(f, "{} expired on {}", self.what, self.expires)
        } else {
            write!(
                f,
                "{} expires on {} ({} day{} left): renew it before filing on it",
                self.what,
                self.expires,
                self.days_left,
                if self.days_left == 1 { "" } else { "s" }
            )
        }
    }
}

/// Largest document the register accepts (a scanned certificate).
pub const MAX_DOCUMENT_BYTES: u64 = 64 << 20;

impl WatchlistFile {
    /// Every document the watchlist names: per right (certificate, proof
    /// of ownership, claim statement, analysis report) and per filer
    /// (power of attorney, ID or business licence).
    pub fn documents(&self) -> Vec<DocumentRef> {
        let mut out = Vec::new();
        let mut push = |role: &str, right: Option<&str>, field: String, path: &Option<String>| {
            if let Some(p) = path.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
                out.push(DocumentRef {
                    role: role.into(),
                    right_id: right.map(str::to_string),
                    field,
                    path: p.to_string(),
                });
            }
        };
        for (i, r) in self.rights.iter().enumerate() {
            let id = Some(r.id.as_str());
            push(
                "registration certificate",
                id,
                format!("rights[{i}].certificate"),
                &r.certificate,
            );
            push(
                "proof of ownership",
                id,
                format!("rights[{i}].ownership_proof"),
                &r.ownership_proof,
            );
            push(
                "copyright claim statement",
                id,
                format!("rights[{i}].claim_statement"),
                &r.claim_statement,
            );
            push(
                "infringement analysis report",
                id,
                format!("rights[{i}].analysis_report"),
                &r.analysis_report,
            );
        }
        if let Some(f) = &self.brand.filer {
            push(
                "power of attorney",
                None,
                "brand.filer.authorization".into(),
                &f.authorization,
            );
            push(
                "ID or business licence",
                None,
                "brand.filer.identity".into(),
                &f.identity,
            );
        }
        out
    }

    /// The documents a complaint on `right_id` is filed with: the right's
    /// own, and the filer's.
    pub fn documents_for(&self, right_id: &str) -> Vec<DocumentRef> {
        self.documents()
            .into_iter()
            .filter(|d| d.right_id.as_deref().is_none_or(|r| r == right_id))
            .collect()
    }

    /// Rights and the agent's authorization that end within `days` of
    /// `today` (or ended already), soonest first.
    pub fn expiring(&self, today: NaiveDate, days: i64) -> Vec<Expiring> {
        let mut out = Vec::new();
        for r in &self.rights {
            if let Some(d) = r.expires {
                out.push(Expiring {
                    what: format!(
                        "right {} ({} {} {})",
                        r.id,
                        r.kind.as_str(),
                        r.jurisdiction,
                        r.registration_number
                    ),
                    expires: d,
                    days_left: (d - today).num_days(),
                });
            }
        }
        if let Some(f) = &self.brand.filer {
            if let Some(d) = f.authorization_expires {
                out.push(Expiring {
                    what: format!(
                        "the authorization of {} by {}",
                        f.name, self.brand.rights_holder
                    ),
                    expires: d,
                    days_left: (d - today).num_days(),
                });
            }
        }
        out.retain(|e| e.days_left <= days);
        out.sort_by(|a, b| a.expires.cmp(&b.expires).then(a.what.cmp(&b.what)));
        out
    }
}

/// Reads a date written either as a TOML date or as a `YYYY-MM-DD` string.
fn date_opt<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<NaiveDate>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Date(toml::value::Datetime),
        Text(String),
    }
    let text = match Raw::deserialize(d)? {
        Raw::Date(dt) => match (dt.date, dt.time) {
            (Some(date), None) => date.to_string(),
            _ => {
                return Err(serde::de::Error::custom(format!(
                    "expected a date like 2031-09-27, got {dt}"
                )))
            }
        },
        Raw::Text(s) => s,
    };
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map(Some)
        .map_err(|e| {
            serde::de::Error::custom(format!(
                "expected a date like 2031-09-27, got {text:?}: {e}"
            ))
        })
}

/// Matching vocabulary beyond the marks.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Matching {
    /// Words sellers of fakes use ("replica", "1:1", "AAA", "高仿").
    #[serde(default)]
    pub indicators: Vec<String>,
    /// Phrases that make a listing an accessory ("compatible with"). When
    /// empty, [`DEFAULT_NEGATIVE_CONTEXT`] applies.
    #[serde(default)]
    pub negative_context: Vec<String>,
}

/// The whole watchlist file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WatchlistFile {
    pub brand: Brand,
    /// Search terms to crawl; when empty, the marks and aliases are used.
    #[serde(default)]
    pub terms: Vec<String>,
    #[serde(default)]
    pub marks: Vec<Mark>,
    #[serde(default)]
    pub matching: Matching,
    #[serde(default)]
    pub products: Vec<Product>,
    /// Category name → Nice classes it falls in.
    #[serde(default)]
    pub categories: BTreeMap<String, Vec<u8>>,
    /// Goods word → Nice classes of the goods it names ("toy" → 28,
    /// "玩具" → 28). A title naming goods in a class a trademark of the
    /// mark is registered for gives a common-word mark its context even
    /// when no product of the watchlist matches ("Aurora Cat Toy").
    /// Matched as whole words, case-insensitive (Chinese as substrings).
    #[serde(default)]
    pub goods_terms: BTreeMap<String, Vec<u8>>,
    /// Platform name → seller names or ids allowed to sell the brand.
    #[serde(default)]
    pub authorized_sellers: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub rights: Vec<Right>,
}

/// A loaded, validated watchlist.
#[derive(Debug, Clone)]
pub struct Watchlist {
    /// The file it was read from.
    pub path: PathBuf,
    pub file: WatchlistFile,
}

impl std::ops::Deref for Watchlist {
    type Target = WatchlistFile;
    fn deref(&self) -> &WatchlistFile {
        &self.file
    }
}

impl Watchlist {
    /// Reads, parses and validates a watchlist file, and checks that
    /// every document it names is a readable file.
    pub fn load(path: impl AsRef<Path>) -> Result<Watchlist> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::input(path, e))?;
        let wl = Watchlist::from_str(path, &text)?;
        wl.check_documents(&text)?;
        Ok(wl)
    }

    /// Where a document of the register is on disk.
    pub fn document_path(&self, d: &DocumentRef) -> PathBuf {
        let p = Path::new(&d.path);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir().join(p)
        }
    }

    /// Reads a document of the register: a regular file (no symlink, FIFO
    /// or folder) of at most [`MAX_DOCUMENT_BYTES`].
    pub fn read_document(&self, d: &DocumentRef) -> Result<Vec<u8>> {
        let path = self.document_path(d);
        let fail = |message: String| Error::Config {
            path: self.path.clone(),
            message: format!("{} ({}): {}: {message}", d.field, d.role, path.display()),
        };
        let meta = std::fs::symlink_metadata(&path).map_err(|e| fail(e.to_string()))?;
        if !meta.is_file() {
            return Err(fail("not a regular file".into()));
        }
        if meta.len() > MAX_DOCUMENT_BYTES {
            return Err(fail(format!(
                "{} bytes, over the {MAX_DOCUMENT_BYTES}-byte limit",
                meta.len()
            )));
        }
        let bytes = std::fs::read(&path).map_err(|e| fail(e.to_string()))?;
        if bytes.is_empty() {
            return Err(fail("the file is empty".into()));
        }
        Ok(bytes)
    }

    /// Every document named must exist and be readable: the error names
    /// the field, line and file.
    fn check_documents(&self, text: &str) -> Result<()> {
        for d in self.documents() {
            if let Err(e) = self.read_document(&d) {
                let (line, column) = text
                    .find(&d.path)
                    .map(|off| line_col(text, off))
                    .unwrap_or((1, 1));
                let message = match e {
                    Error::Config { message, .. } => message,
                    other => other.to_string(),
                };
                return Err(Error::Watchlist {
                    path: self.path.clone(),
                    line,
                    column,
                    field: d.field.clone(),
                    message: format!("document missing or unreadable: {message}"),
                });
            }
        }
        Ok(())
    }

    /// Parses and validates watchlist text; `path` is used in errors and to
    /// resolve photo paths.
    pub fn from_str(path: &Path, text: &str) -> Result<Watchlist> {
        let de = toml::Deserializer::parse(text).map_err(|e| {
            let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
            Error::Watchlist {
                path: path.to_path_buf(),
                line,
                column,
                field: "(syntax)".into(),
                message: e.message().to_string(),
            }
        })?;
        let file: WatchlistFile = serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            let inner = e.into_inner();
            let (line, column) = inner
                .span()
                .map(|s| line_col(text, s.start))
                .unwrap_or((1, 1));
            Error::Watchlist {
                path: path.to_path_buf(),
                line,
                column,
                field,
                message: inner.message().to_string(),
            }
        })?;
        let wl = Watchlist {
            path: path.to_path_buf(),
            file,
        };
        wl.validate(text)?;
        Ok(wl)
    }

    /// The folder photo paths are relative to.
    pub fn base_dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }

    /// Absolute-or-relative path of an official photo as it is on disk.
    pub fn image_path(&self, image: &Path) -> PathBuf {
        if image.is_absolute() {
            image.to_path_buf()
        } else {
            self.base_dir().join(image)
        }
    }

    /// The search terms to crawl: `terms`, or every mark and alias.
    pub fn search_terms(&self) -> Vec<String> {
        if !self.terms.is_empty() {
            return self.terms.clone();
        }
        let mut out: Vec<String> = Vec::new();
        for m in &self.marks {
            for t in std::iter::once(&m.mark).chain(&m.aliases) {
                if !out.iter().any(|o| o.eq_ignore_ascii_case(t)) {
                    out.push(t.clone());
                }
            }
        }
        out
    }

    /// The negative-context phrases in force.
    pub fn negative_context(&self) -> Vec<String> {
        if self.matching.negative_context.is_empty() {
            DEFAULT_NEGATIVE_CONTEXT
                .iter()
                .map(|s| s.to_string())
                .collect()
        } else {
            self.matching.negative_context.clone()
        }
    }

    /// The trademark rights registered for `mark` (compared
    /// case-insensitively with each right's `mark`) whose classes cover
    /// `class` and that have not expired on `on`.
    pub fn trademarks_covering<'w>(
        &'w self,
        mark: &'w str,
        class: u8,
        on: NaiveDate,
    ) -> impl Iterator<Item = &'w Right> + 'w {
        self.rights.iter().filter(move |r| {
            r.kind == RightKind::Trademark
                && r.mark
                    .as_deref()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case(mark.trim()))
                && r.classes.contains(&class)
                && r.expires.is_none_or(|e| e >= on)
        })
    }

    /// True when the seller (by name or id) is authorized on the platform.
    pub fn is_authorized(
        &self,
        platform: Platform,
        seller_name: Option<&str>,
        seller_id: Option<&str>,
    ) -> bool {
        let Some(list) = self.authorized_sellers.get(platform.as_str()) else {
            return false;
        };
        list.iter().any(|entry| {
            let entry = entry.trim();
            seller_name.is_some_and(|n| n.trim().eq_ignore_ascii_case(entry))
                || seller_id.is_some_and(|id| id.trim() == entry)
        })
    }

    fn validate(&self, text: &str) -> Result<()> {
        let err = |field: String, needle: &str, message: String| {
            let (line, column) = text
                .find(needle)
                .map(|off| line_col(text, off))
                .unwrap_or((1, 1));
            Err(Error::Watchlist {
                path: self.path.clone(),
                line,
                column,
                field,
                message,
            })
        };
        if self.brand.name.trim().is_empty() {
            return err("brand.name".into(), "name", "must not be empty".into());
        }
        if self.marks.is_empty() {
            return err(
                "marks".into(),
                "[brand]",
                "at least one [[marks]] entry is required".into(),
            );
        }
        for (i, m) in self.marks.iter().enumerate() {
            if m.mark.trim().is_empty() {
                return err(
                    format!("marks[{i}].mark"),
                    "mark",
                    "must not be empty".into(),
                );
            }
        }
        for (i, p) in self.products.iter().enumerate() {
            let prices = std::iter::once(("msrp", &p.msrp))
                .chain(p.wholesale.as_ref().map(|w| ("wholesale", w)));
            for (field, money) in prices {
                if !(money.amount.is_finite() && money.amount > 0.0) {
                    return err(
                        format!("products[{i}].{field}.amount"),
                        &p.name,
                        format!("must be a positive price, got {}", money.amount),
                    );
                }
                if money.currency.len() != 3
                    || !money.currency.chars().all(|c| c.is_ascii_uppercase())
                {
                    return err(
                        format!("products[{i}].{field}.currency"),
                        &money.currency,
                        format!(
                            "must be an ISO 4217 code like USD, got {:?}",
                            money.currency
                        ),
                    );
                }
            }
            for (j, img) in p.images.iter().enumerate() {
                let on_disk = self.image_path(img);
                if !on_disk.is_file() {
                    return err(
                        format!("products[{i}].images[{j}]"),
                        &img.to_string_lossy(),
                        format!("official image {} does not exist", on_disk.display()),
                    );
                }
            }
        }
        for platform in self.authorized_sellers.keys() {
            if Platform::from_name(platform).is_none() {
                return err(
                    format!("authorized_sellers.{platform}"),
                    platform,
                    "unknown platform (use aliexpress, alibaba, taobao, tmall, 1688)".into(),
                );
            }
        }
        for (name, classes) in &self.categories {
            if let Some(bad) = classes.iter().find(|c| !(1..=45).contains(*c)) {
                return err(
                    format!("categories.{name}"),
                    name,
                    format!("Nice class {bad} is not between 1 and 45"),
                );
            }
        }
        for (term, classes) in &self.goods_terms {
            if term.trim().is_empty() {
                return err(
                    "goods_terms".into(),
                    "[goods_terms]",
                    "a goods word must not be empty".into(),
                );
            }
            if classes.is_empty() {
                return err(
                    format!("goods_terms.{term}"),
                    term,
                    "name at least one Nice class".into(),
                );
            }
            if let Some(bad) = classes.iter().find(|c| !(1..=45).contains(*c)) {
                return err(
                    format!("goods_terms.{term}"),
                    term,
                    format!("Nice class {bad} is not between 1 and 45"),
                );
            }
        }
        let mut seen = std::collections::HashSet::new();
        for (i, r) in self.rights.iter().enumerate() {
            if !seen.insert(r.id.as_str()) {
                return err(
                    format!("rights[{i}].id"),
                    &r.id,
                    format!("duplicate right id {:?}", r.id),
                );
            }
            if r.registration_number.trim().is_empty() {
                return err(
                    format!("rights[{i}].registration_number"),
                    &r.id,
                    "must not be empty".into(),
                );
            }
            if r.kind == RightKind::Trademark {
                if !r.registration_number.chars().all(|c| c.is_ascii_digit()) {
                    return err(
                        format!("rights[{i}].registration_number"),
                        &r.registration_number,
                        "a trademark registration number is digits only".into(),
                    );
                }
                if let Some(bad) = r.classes.iter().find(|c| !(1..=45).contains(*c)) {
                    return err(
                        format!("rights[{i}].classes"),
                        &r.id,
                        format!("Nice class {bad} is not between 1 and 45"),
                    );
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[brand]
name = "Aurora"
rights_holder = "Aurora Outfitters Ltd."

[[marks]]
mark = "AURORA"
aliases = ["奥罗拉"]
"#;

    #[test]
    fn minimal_watchlist_loads() {
        let wl = Watchlist::from_str(Path::new("w.toml"), MINIMAL).unwrap();
        assert_eq!(wl.search_terms(), vec!["AURORA", "奥罗拉"]);
        assert!(!wl.negative_context().is_empty());
    }

    #[test]
    fn unknown_field_names_line_and_path() {
        let text = format!("{MINIMAL}\n[[products]]\nname = \"Cup\"\ncategory = \"drinkware\"\nmsrp = {{ amount = 39.0, currency = \"USD\" }}\nmsrpp = 3\n");
        let err = Watchlist::from_str(Path::new("w.toml"), &text).unwrap_err();
        match err {
            Error::Watchlist {
                line,
                field,
                message,
                ..
            } => {
                assert_eq!(line, 14, "{message}");
                assert!(field.contains("products"), "{field}");
                assert!(message.contains("msrpp"), "{message}");
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn wrong_type_names_field() {
        let text = MINIMAL.replace("aliases = [\"奥罗拉\"]", "aliases = \"奥罗拉\"");
        let err = Watchlist::from_str(Path::new("w.toml"), &text)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("w.toml:8:"), "{err}");
        assert!(err.contains("marks[0].aliases"), "{err}");
    }

    #[test]
    fn missing_official_image_is_an_error() {
        let text = format!("{MINIMAL}\n[[products]]\nname = \"Cup\"\ncategory = \"drinkware\"\nmsrp = {{ amount = 39.0, currency = \"USD\" }}\nimages = [\"nope/cup.jpg\"]\n");
        let err = Watchlist::from_str(Path::new("w.toml"), &text)
            .unwrap_err()
            .to_string();
        assert!(err.contains("products[0].images[0]"), "{err}");
        assert!(err.contains("does not exist"), "{err}");
        assert!(err.starts_with("w.toml:14:"), "{err}");
    }

    #[test]
    fn bad_trademark_number_and_class() {
        let text = format!("{MINIMAL}\n[[rights]]\nid = \"t\"\nkind = \"trademark\"\njurisdiction = \"US\"\nregistration_number = \"12a\"\n");
        let err = Watchlist::from_str(Path::new("w.toml"), &text)
            .unwrap_err()
            .to_string();
        assert!(err.contains("rights[0].registration_number"), "{err}");
    }

    #[test]
    fn expiry_accepts_toml_dates_and_strings() {
        for v in ["2031-09-27", "\"2031-09-27\""] {
            let text = format!("{MINIMAL}\n[[rights]]\nid = \"t\"\nkind = \"trademark\"\njurisdiction = \"CN\"\nregistration_number = \"1\"\nexpires = {v}\n");
            let wl = Watchlist::from_str(Path::new("w.toml"), &text).unwrap();
            assert_eq!(wl.rights[0].expires, NaiveDate::from_ymd_opt(2031, 9, 27));
        }
        let text = format!("{MINIMAL}\n[[rights]]\nid = \"t\"\nkind = \"trademark\"\njurisdiction = \"CN\"\nregistration_number = \"1\"\nexpires = \"soon\"\n");
        let err = Watchlist::from_str(Path::new("w.toml"), &text)
            .unwrap_err()
            .to_string();
        assert!(err.contains("rights[0].expires"), "{err}");
    }

    #[test]
    fn wholesale_price_is_optional_and_validated() {
        let product = |extra: &str| {
            format!("{MINIMAL}\n[[products]]\nname = \"Cup\"\ncategory = \"drinkware\"\nmsrp = {{ amount = 39.0, currency = \"USD\" }}\n{extra}")
        };
        let wl = Watchlist::from_str(Path::new("w.toml"), &product("")).unwrap();
        assert_eq!(wl.products[0].wholesale, None);
        let wl = Watchlist::from_str(
            Path::new("w.toml"),
            &product("wholesale = { amount = 9.0, currency = \"USD\" }\n"),
        )
        .unwrap();
        assert_eq!(
            wl.products[0].wholesale,
            Some(Money {
                amount: 9.0,
                currency: "USD".into()
            })
        );
        for (bad, field) in [
            (
                "wholesale = { amount = 0.0, currency = \"USD\" }",
                "products[0].wholesale.amount",
            ),
            (
                "wholesale = { amount = -2.0, currency = \"USD\" }",
                "products[0].wholesale.amount",
            ),
            (
                "wholesale = { amount = nan, currency = \"USD\" }",
                "products[0].wholesale.amount",
            ),
            (
                "wholesale = { amount = 9.0, currency = \"usd\" }",
                "products[0].wholesale.currency",
            ),
            ("wholesale = { amount = 9.0 }", "products[0].wholesale"),
        ] {
            let err = Watchlist::from_str(Path::new("w.toml"), &product(bad))
                .unwrap_err()
                .to_string();
            assert!(err.contains(field), "{bad}: {err}");
        }
    }

    #[test]
    fn goods_terms_are_optional_and_validated() {
        let wl = Watchlist::from_str(Path::new("w.toml"), MINIMAL).unwrap();
        assert!(wl.goods_terms.is_empty());
        let text = format!("{MINIMAL}\n[goods_terms]\ntoy = [28]\n\"玩具\" = [28]\nmug = [21]\n");
        let wl = Watchlist::from_str(Path::new("w.toml"), &text).unwrap();
        assert_eq!(wl.goods_terms.get("玩具"), Some(&vec![28]));
        for (bad, message) in [
            ("toy = [46]", "Nice class 46"),
            ("toy = [0]", "Nice class 0"),
            ("toy = []", "at least one Nice class"),
            ("\" \" = [28]", "must not be empty"),
            ("toy = \"28\"", "goods_terms"),
        ] {
            let text = format!("{MINIMAL}\n[goods_terms]\n{bad}\n");
            let err = Watchlist::from_str(Path::new("w.toml"), &text)
                .unwrap_err()
                .to_string();
            assert!(err.contains(message), "{bad}: {err}");
        }
    }

    #[test]
    fn trademarks_covering_checks_mark_class_and_expiry() {
        let right = |id: &str, mark: &str, expires: &str| {
            format!("[[rights]]\nid = \"{id}\"\nkind = \"trademark\"\njurisdiction = \"CN\"\nregistration_number = \"1\"\nmark = \"{mark}\"\nclasses = [21, 28]\nexpires = {expires}\n")
        };
        let text = format!(
            "{MINIMAL}\n{}{}{}",
            right("live", "Aurora", "2031-09-27"),
            right("old", "AURORA", "2020-01-01"),
            right("other", "APEX", "2031-09-27")
        );
        let wl = Watchlist::from_str(Path::new("w.toml"), &text).unwrap();
        let on = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        let ids = |class| {
            wl.trademarks_covering("AURORA", class, on)
                .map(|r| r.id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(28), ["live"]);
        assert!(ids(16).is_empty());
    }

    #[test]
    fn authorized_seller_matches_name_or_id() {
        let text = format!("{MINIMAL}\n[authorized_sellers]\naliexpress = [\"Aurora Official Store\", \"1100234567\"]\n");
        let wl = Watchlist::from_str(Path::new("w.toml"), &text).unwrap();
        assert!(wl.is_authorized(Platform::AliExpress, Some("aurora official store"), None));
        assert!(wl.is_authorized(Platform::AliExpress, None, Some("1100234567")));
        assert!(!wl.is_authorized(Platform::Taobao, Some("Aurora Official Store"), None));
    }
}
