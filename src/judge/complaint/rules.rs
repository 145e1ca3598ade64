//! The IPP acceptance rules, one function per [`Rule`], each returning the
//! message a lawyer reads when the rule fails.
//!
//! [`check`] runs them all so that a finding that cannot be filed reports
//! every reason at once: fixing one problem should not reveal the next.

use super::{marks_for, platform_name, Grounds, ReasonCode, Rule, RuleFailure};
use crate::model::listing::Platform;
use crate::model::watchlist::{FilerRole, Right, RightKind, Watchlist};
use chrono::NaiveDate;

/// Jurisdiction codes that mean "valid in mainland China". Hong Kong,
/// Macao and Taiwan registrations are separate systems and do not count.
const CHINA: &[&str] = &["CN", "CHN", "PRC"];

/// Every rule a right fails for this complaint.
pub fn check(
    wl: &Watchlist,
    right: &Right,
    platform: Platform,
    reason: ReasonCode,
    g: &Grounds<'_>,
    filing_date: NaiveDate,
) -> Vec<RuleFailure> {
    let checks: [(Rule, Option<String>); 7] = [
        (Rule::IppVerified, ipp_verified(right)),
        (Rule::Jurisdiction, jurisdiction(right, platform)),
        (Rule::NotExpired, not_expired(right, filing_date)),
        (Rule::ClassesCoverGoods, classes_cover_goods(wl, right, g)),
        (Rule::ReasonFitsRight, reason_fits_right(right, reason, g)),
        (
            Rule::AgentAuthorization,
            agent_authorization(wl, filing_date),
        ),
        (Rule::CertificateOnRecord, certificate_on_record(right)),
    ];
    checks
        .into_iter()
        .filter_map(|(rule, fail)| {
            fail.map(|message| RuleFailure {
                right_id: right.id.clone(),
                rule,
                message,
            })
        })
        .collect()
}

/// True for a jurisdiction code meaning mainland China.
pub fn valid_in_china(jurisdiction: &str) -> bool {
    CHINA
        .iter()
        .any(|c| jurisdiction.trim().eq_ignore_ascii_case(c))
}

/// A right whose verification IPP rejected carries nothing.
pub fn ipp_verified(right: &Right) -> Option<String> {
    (right.ipp_status() == crate::model::watchlist::IppStatus::Rejected).then(|| {
        format!(
            "IPP rejected the verification of right {} ({}); fix its documents and submit it again",
            right.id,
            right.ipp_describe()
        )
    })
}

/// Taobao, Tmall and 1688 accept only rights valid in China.
pub fn jurisdiction(right: &Right, platform: Platform) -> Option<String> {
    let in_china = valid_in_china(&right.jurisdiction);
    (platform.china_only() && !in_china).then(|| {
        format!(
            "{} accepts only rights valid in China; right {} is registered in {} (add a Chinese registration to the watchlist)",
            platform_name(platform),
            right.id,
            right.jurisdiction
        )
    })
}

/// A right past its expiry date on the filing date carries nothing.
pub fn not_expired(right: &Right, filing_date: NaiveDate) -> Option<String> {
    let expires = right.expires?;
    (expires < filing_date).then(|| {
        format!(
            "right {} expired on {expires}; the filing date is {filing_date} (renew it or file on another right)",
            right.id
        )
    })
}

/// A trademark protects only the goods of its Nice classes: the product the
/// listing is compared with must fall in one of them.
pub fn classes_cover_goods(wl: &Watchlist, right: &Right, g: &Grounds<'_>) -> Option<String> {
    if right.kind != RightKind::Trademark {
        return None;
    }
    let Some((product, category)) = g.product else {
        return Some(format!(
            "the listing could not be tied to a product of the watchlist, so it cannot be shown that the goods fall in the Nice classes {:?} of trademark {}",
            right.classes, right.id
        ));
    };
    match wl.categories.get(category) {
        Some(classes) if !classes.iter().any(|c| right.classes.contains(c)) => Some(format!(
            "trademark {} covers Nice classes {:?}, but {product} ({category}) falls in {:?}",
            right.id, right.classes, classes
        )),
        Some(_) => None,
        None => Some(format!(
            "category \"{category}\" of {product} has no Nice classes in [categories], so class coverage of trademark {} cannot be shown",
            right.id
        )),
    }
}

/// The reason must be one the IPP lists for the right's type, backed by the
/// evidence that type requires.
pub fn reason_fits_right(right: &Right, reason: ReasonCode, g: &Grounds<'_>) -> Option<String> {
    if reason.right_kind() != right.kind {
        return Some(format!(
            "reason {} is not available for a {} right ({})",
            reason.as_str(),
            right.kind.as_str(),
            right.id
        ));
    }
    match reason {
        ReasonCode::TrademarkUnauthorizedUse | ReasonCode::TrademarkCounterfeit
            if marks_for(right, g).is_empty() =>
        {
            Some(format!(
                "trademark {} ({}) does not appear in the listing title",
                right.id,
                right.mark.as_deref().unwrap_or("no mark named")
            ))
        }
        ReasonCode::CopyrightImageTheft if g.photos.is_empty() => Some(format!(
            "a copyright complaint on {} needs a listing photo that copies an official photo",
            right.id
        )),
        ReasonCode::CopyrightImageTheft if g.photo_published_at.is_empty() => Some(format!(
            "a copyright complaint must show where the official photo is published: add image_urls to the product in the watchlist (right {})",
            right.id
        )),
        ReasonCode::DesignPatentInfringement if g.photos.is_empty() => Some(format!(
            "a design patent complaint on {} needs side-by-side images, and no listing photo matches an official photo",
            right.id
        )),
        ReasonCode::PatentInfringement
            if right
                .analysis_report
                .as_deref()
                .is_none_or(|r| r.trim().is_empty()) =>
        {
            Some(format!(
                "patent {} needs an infringement analysis report (analysis_report in the watchlist); without it no complaint is drafted",
                right.id
            ))
        }
        _ => None,
    }
}

/// An agent filing for the rights holder must have its power of attorney
/// on record (a file of the documents register), not expired on the
/// filing date.
pub fn agent_authorization(wl: &Watchlist, filing_date: NaiveDate) -> Option<String> {
    let filer = wl.brand.filer.as_ref()?;
    if filer.role != FilerRole::Agent {
        return None;
    }
    let missing = filer
        .authorization
        .as_deref()
        .is_none_or(|a| a.trim().is_empty());
    if missing {
        return Some(format!(
            "{} files as an agent for {} but no power of attorney is on record (brand.filer.authorization: the file of the authorization letter)",
            filer.name, wl.brand.rights_holder
        ));
    }
    match filer.authorization_expires {
        Some(end) if end < filing_date => Some(format!(
            "the authorization of {} by {} expired on {end}; the filing date is {filing_date} (a new power of attorney is needed)",
            filer.name, wl.brand.rights_holder
        )),
        _ => None,
    }
}

/// A complaint is filed with the proof of the right: the registration
/// certificate of a trademark or patent; for a copyright, its certificate
/// or, when unregistered, the copyright claim statement.
pub fn certificate_on_record(right: &Right) -> Option<String> {
    let has = |f: &Option<String>| f.as_deref().is_some_and(|c| !c.trim().is_empty());
    match right.kind {
        RightKind::Copyright if !has(&right.certificate) && !has(&right.claim_statement) => {
            Some(format!(
                "copyright {} has neither a registration certificate nor a copyright claim statement on record (certificate or claim_statement in the watchlist)",
                right.id
            ))
        }
        RightKind::Copyright => None,
        _ if !has(&right.certificate) => Some(format!(
            "{} {} has no registration certificate on record (certificate in the watchlist)",
            right.kind.as_str().replace('_', " "),
            right.id
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use crate::judge::brand::MatchRule;

    fn right(extra: &str) -> (Watchlist, Right) {
        let wl = watchlist(extra);
        let r = wl.rights[0].clone();
        (wl, r)
    }

    fn g<'a>(
        marks: &'a [crate::judge::brand::MarkHit],
        photos: &'a [crate::judge::signal::PhotoEvidence],
    ) -> Grounds<'a> {
        Grounds {
            platform: Some(Platform::AliExpress),
            listing_url: "https://www.aliexpress.com/item/1.html",
            marks,
            photos,
            product: Some(("Aurora Barista Espresso Cup", "drinkware")),
            photo_published_at: vec!["https://aurora-outfitters.example/cup".into()],
            ..Grounds::default()
        }
    }

    #[test]
    fn jurisdiction_valid_and_invalid() {
        let (_, us) = right(US_TM);
        let (_, cn) = right(CN_TM);
        for p in [Platform::Taobao, Platform::Tmall, Platform::S1688] {
            let msg = jurisdiction(&us, p).expect("US right on a China-only platform");
            assert!(msg.contains("accepts only rights valid in China"), "{msg}");
            assert!(msg.contains("registered in US"), "{msg}");
            assert_eq!(jurisdiction(&cn, p), None);
        }
        for p in [Platform::AliExpress, Platform::Alibaba] {
            assert_eq!(jurisdiction(&us, p), None);
            assert_eq!(jurisdiction(&cn, p), None);
        }
        let (_, hk) = right(&CN_TM.replace("\"CN\"", "\"HK\""));
        assert!(jurisdiction(&hk, Platform::Tmall).is_some());
    }

    #[test]
    fn not_expired_valid_and_invalid() {
        let (_, us) = right(US_TM);
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(
            not_expired(&us, d(2032, 3, 14)),
            None,
            "valid on its last day"
        );
        let msg = not_expired(&us, d(2032, 3, 15)).unwrap();
        assert!(msg.contains("expired on 2032-03-14"), "{msg}");
        assert!(msg.contains("2032-03-15"), "{msg}");
        let (_, open) = right(&US_TM.replace("expires = 2032-03-14\n", ""));
        assert_eq!(not_expired(&open, d(2099, 1, 1)), None);
    }

    #[test]
    fn classes_cover_goods_valid_and_invalid() {
        let marks = [hit("AURORA", MatchRule::Exact)];
        let (wl, us) = right(US_TM);
        assert_eq!(classes_cover_goods(&wl, &us, &g(&marks, &[])), None);
        let (wl, narrow) = right(&US_TM.replace("[16, 21, 28]", "[16, 28]"));
        let msg = classes_cover_goods(&wl, &narrow, &g(&marks, &[])).unwrap();
        assert!(
            msg.contains("Aurora Barista Espresso Cup (drinkware) falls in [21]"),
            "{msg}"
        );
        let unknown_category = Grounds {
            product: Some(("Lamp", "lighting")),
            ..g(&marks, &[])
        };
        let msg = classes_cover_goods(&wl, &narrow, &unknown_category).unwrap();
        assert!(msg.contains("no Nice classes in [categories]"), "{msg}");
        let no_product = Grounds {
            product: None,
            ..g(&marks, &[])
        };
        let msg = classes_cover_goods(&wl, &us, &no_product).unwrap();
        assert!(msg.contains("could not be tied to a product"), "{msg}");
        // Not a trademark: the rule does not apply.
        let (wl, cr) = right(COPYRIGHT);
        assert_eq!(classes_cover_goods(&wl, &cr, &no_product), None);
    }

    #[test]
    fn reason_fits_right_valid_and_invalid() {
        let marks = [hit("AURORA", MatchRule::Exact)];
        let photos = [photo()];
        let (_, tm) = right(US_TM);
        assert_eq!(
            reason_fits_right(&tm, ReasonCode::TrademarkCounterfeit, &g(&marks, &photos)),
            None
        );
        let msg =
            reason_fits_right(&tm, ReasonCode::CopyrightImageTheft, &g(&marks, &photos)).unwrap();
        assert!(msg.contains("not available for a trademark right"), "{msg}");
        let msg =
            reason_fits_right(&tm, ReasonCode::TrademarkUnauthorizedUse, &g(&[], &photos)).unwrap();
        assert!(
            msg.contains("does not appear in the listing title"),
            "{msg}"
        );

        let (_, cr) = right(COPYRIGHT);
        assert_eq!(
            reason_fits_right(&cr, ReasonCode::CopyrightImageTheft, &g(&[], &photos)),
            None
        );
        let unpublished = Grounds {
            photo_published_at: Vec::new(),
            ..g(&[], &photos)
        };
        let msg = reason_fits_right(&cr, ReasonCode::CopyrightImageTheft, &unpublished).unwrap();
        assert!(
            msg.contains("where the official photo is published"),
            "{msg}"
        );
        assert!(reason_fits_right(&cr, ReasonCode::CopyrightImageTheft, &g(&marks, &[])).is_some());

        let (_, design) = right(DESIGN);
        assert_eq!(
            reason_fits_right(
                &design,
                ReasonCode::DesignPatentInfringement,
                &g(&[], &photos)
            ),
            None
        );
        let msg = reason_fits_right(
            &design,
            ReasonCode::DesignPatentInfringement,
            &g(&marks, &[]),
        )
        .unwrap();
        assert!(msg.contains("side-by-side images"), "{msg}");

        let (_, patent) = right(PATENT);
        let msg = reason_fits_right(&patent, ReasonCode::PatentInfringement, &g(&marks, &photos))
            .unwrap();
        assert!(msg.contains("infringement analysis report"), "{msg}");
        let (_, reported) = right(&format!(
            "{PATENT}analysis_report = \"reports/fto-2026.pdf\"\n"
        ));
        assert_eq!(
            reason_fits_right(
                &reported,
                ReasonCode::PatentInfringement,
                &g(&marks, &photos)
            ),
            None
        );
    }

    #[test]
    fn patent_without_report_is_never_drafted() {
        let wl = watchlist(PATENT);
        let marks = [hit("AURORA", MatchRule::Exact)];
        let photos = [photo()];
        let (drafts, fails) = super::super::draft(&wl, &g(&marks, &photos), date());
        assert!(drafts.is_empty());
        assert_eq!(fails.len(), 1);
        assert_eq!(fails[0].rule, Rule::ReasonFitsRight);
    }

    #[test]
    fn agent_authorization_valid_and_invalid() {
        let base = watchlist(US_TM);
        assert_eq!(
            agent_authorization(&base, date()),
            None,
            "no filer: the owner files"
        );
        let with_filer = |f: &str| {
            let text = format!("{BASE}\n{US_TM}").replace(
                "rights_holder = \"Aurora Outfitters Ltd.\"\n",
                &format!("rights_holder = \"Aurora Outfitters Ltd.\"\n{f}"),
            );
            Watchlist::from_str(std::path::Path::new("w.toml"), &text).unwrap()
        };
        let owner = with_filer("filer = { name = \"Aurora Outfitters Ltd.\", role = \"owner\" }\n");
        assert_eq!(agent_authorization(&owner, date()), None);
        let agent = with_filer("filer = { name = \"Lex & Co\", role = \"agent\" }\n");
        let msg = agent_authorization(&agent, date()).unwrap();
        assert!(
            msg.contains("Lex & Co files as an agent for Aurora Outfitters Ltd."),
            "{msg}"
        );
        let blank = with_filer(
            "filer = { name = \"Lex & Co\", role = \"agent\", authorization = \" \" }\n",
        );
        assert!(agent_authorization(&blank, date()).is_some());
        let authorized = with_filer("filer = { name = \"Lex & Co\", role = \"agent\", authorization = \"IPP-AUTH-2026-001\" }\n");
        assert_eq!(agent_authorization(&authorized, date()), None);
        let marks = [hit("AURORA", MatchRule::Exact)];
        let (drafts, _) = super::super::draft(&authorized, &g(&marks, &[]), date());
        assert!(drafts[0]
            .attachments
            .iter()
            .any(|a| a.contains("IPP-AUTH-2026-001")));
        let (drafts, fails) = super::super::draft(&agent, &g(&marks, &[]), date());
        assert!(drafts.is_empty());
        assert_eq!(fails[0].rule, Rule::AgentAuthorization);
        // A power of attorney that ended before the filing date.
        let lapsed = with_filer("filer = { name = \"Lex & Co\", role = \"agent\", authorization = \"poa.pdf\", authorization_expires = 2026-02-28 }\n");
        let msg = agent_authorization(&lapsed, date()).unwrap();
        assert!(msg.contains("expired on 2026-02-28"), "{msg}");
        let valid = with_filer("filer = { name = \"Lex & Co\", role = \"agent\", authorization = \"poa.pdf\", authorization_expires = 2026-03-01 }\n");
        assert_eq!(
            agent_authorization(&valid, date()),
            None,
            "valid on its last day"
        );
    }

    #[test]
    fn certificate_on_record_valid_and_invalid() {
        let (_, tm) = right(US_TM);
        assert_eq!(certificate_on_record(&tm), None);
        let (_, bare) = right(&US_TM.replace("certificate = \"certificates/us.pdf\"\n", ""));
        assert!(certificate_on_record(&bare)
            .unwrap()
            .contains("no registration certificate"));
        let (_, cr) = right(COPYRIGHT);
        assert_eq!(
            certificate_on_record(&cr),
            None,
            "an unregistered copyright files its claim statement"
        );
        let (_, bare_cr) =
            right(&COPYRIGHT.replace("claim_statement = \"documents/copyright-claim.pdf\"\n", ""));
        let msg = certificate_on_record(&bare_cr).unwrap();
        assert!(msg.contains("copyright claim statement"), "{msg}");
    }

    #[test]
    fn check_reports_all_failures_at_once() {
        let marks = [hit("AURORA", MatchRule::Exact)];
        let (wl, r) = right(
            &US_TM
                .replace("2032-03-14", "2020-01-01")
                .replace("[16, 21, 28]", "[9]")
                .replace("certificate = \"certificates/us.pdf\"\n", ""),
        );
        let fails = check(
            &wl,
            &r,
            Platform::Tmall,
            ReasonCode::TrademarkUnauthorizedUse,
            &g(&marks, &[]),
            date(),
        );
        let rules: Vec<Rule> = fails.iter().map(|f| f.rule).collect();
        assert_eq!(
            rules,
            vec![
                Rule::Jurisdiction,
                Rule::NotExpired,
                Rule::ClassesCoverGoods,
                Rule::CertificateOnRecord
            ]
        );
        assert!(fails.iter().all(|f| f.right_id == "us-tm"));
    }
}
