//! Real-page fixtures: 1688 search and offer pages, 2018–2026. Each
//! fixture is ours (奥罗拉/AURORA demo offers) and reproduces the structure
//! and quirks of the public page named in the test's doc comment.

use super::support;

/// Mirrors `networkLam/spider-first`, `1688.html` (2024-05, a browser-saved
/// `p4psearch.1688.com/page.html` SEM list): 20 offers in `var pageConfig =
/// {…"listOffer":[…]}` (18 `isP4P`, 2 `nature`), titles with `<font
/// color=red>` highlights, `imgUrl` `….220x220.jpg`; the cards
/// `div.smart_ui_offer.offer_item` sit inside `div.offer_exp` whose
/// `data-aplus-report` holds `object_id@<id>^_p_isad@1` (paid cards link
/// to `dj.1688.com/ci_bb`), prices split by React comments, turnover in
/// `span.location`, URL-encoded `data-nick`; and a baxia dialog iframe
/// whose src is a `/_____tmd_____/punish?…x5secdata=` URL of an ajax call.
#[test]
fn sem_search_2024_page_config_and_offer_exp_cards() {
    let l = support::parse_listings(
        "https://p4psearch.1688.com/page.html?keywords=%E5%A5%A5%E7%BD%97%E6%8B%89",
        "1688/p4psearch_2024_pageconfig.html",
        Some("text/html;charset=UTF-8"),
    );
    assert_eq!(l.len(), 20);
    assert_eq!(l.iter().filter(|x| x.sponsored).count(), 18);
    let a = &l[0];
    assert_eq!(a.id, "718100000000");
    assert_eq!(a.url, "https://detail.1688.com/offer/718100000000.html");
    assert_eq!(a.title, "奥罗拉AURORA 便携咖啡杯 款1 保温杯");
    let p = a.price.as_ref().unwrap();
    assert_eq!((p.amount, p.currency.as_str()), (1.0, "CNY"));
    assert_eq!(a.seller.name.as_deref(), Some("义乌市奥罗拉杯业1厂"));
    assert_eq!(a.seller.id.as_deref(), Some("奥罗拉杯业1号"));
    assert_eq!(
        a.images,
        ["https://cbu01.alicdn.com/img/ibank/O1CN01Aur0000Cup_!!220000000-0-cib.jpg"]
    );
    let s = a.sales.as_ref().unwrap();
    assert_eq!((s.count, s.text.as_str()), (10_000, "成交1.0万+元"));
    assert_eq!(a.moq.as_ref().map(|m| m.quantity), Some(2));
    assert_eq!(a.location.as_deref(), Some("浙江 金华市义乌市"));
    let natural = &l[19];
    assert_eq!(natural.id, "718100021109");
    assert!(!natural.sponsored);
    assert_eq!(natural.price.as_ref().unwrap().amount, 5.75);
    assert!(l.iter().all(|x| x.missing.is_empty()));
}

/// Mirrors `kyloluke88/ecommerce-api`, `1688.html` (2026-02 offer page
/// saved from the browser, `od-version 2024`): `window.context=(function(b,
/// d){…})(window.contextPath,{"result":{"data":{…},"global":{…}}})` with
/// bare numeric keys in `skuWeight`, a double-escaped `offerLoginId`,
/// recommendations of other offers in the same blob, canonical link,
/// `<title>… - 阿里巴巴`, and a punish URL and `login.taobao.com` in
/// script configuration.
#[test]
fn offer_2026_window_context() {
    let l = support::parse_listings(
        "https://detail.1688.com/offer/812345678901.html?spm=a26352.13672862.offerlist.14",
        "1688/offer_2026_window_context.html",
        None,
    );
    let l = &l[0];
    assert_eq!(l.id, "812345678901");
    assert_eq!(l.url, "https://detail.1688.com/offer/812345678901.html");
    assert_eq!(l.title, "奥罗拉AURORA 陶瓷马克杯 350ml 礼盒装 批发");
    let p = l.price.as_ref().unwrap();
    assert_eq!(
        (p.amount, p.max, p.currency.as_str()),
        (12.5, Some(18.8), "CNY")
    );
    let m = l.moq.as_ref().unwrap();
    assert_eq!((m.quantity, m.unit.as_str()), (2, "只"));
    assert_eq!(l.seller.name.as_deref(), Some("义乌市奥罗拉日用品有限公司"));
    assert_eq!(l.seller.id.as_deref(), Some("奥罗拉日用"));
    assert_eq!(
        l.seller.url.as_deref(),
        Some("https://aurora-mug.1688.com/")
    );
    assert_eq!(l.images.len(), 4);
    assert_eq!(
        l.images[0],
        "https://cbu01.alicdn.com/img/ibank/O1CN01AuroraMug1_!!2200000001-0-cib.jpg"
    );
    assert_eq!(l.sales.as_ref().map(|s| s.count), Some(2000));
    assert_eq!(l.location.as_deref(), Some("浙江省金华市"));
}

/// Older offer pages (`iDetailConfig` with `offerid`, `refPrice`,
/// `beginAmount`, `unit`, a GBK-URL-encoded `loginId`, `companySiteLink`;
/// `#mod-detail-title h1.d-title`; `li.tab-trigger[data-imgs]`), served as
/// GBK bytes with a `charset=GBK` meta; the keys as read by extension code
/// such as the `get1688Supplier()` helper found in public userscripts.
#[test]
fn legacy_offer_gbk_idetailconfig() {
    let l = support::parse_listings(
        "https://detail.1688.com/offer/555000111222.html",
        "1688/offer_legacy_gbk_idetailconfig.html",
        Some("text/html"),
    );
    let l = &l[0];
    assert_eq!(l.id, "555000111222");
    assert_eq!(l.title, "奥罗拉保温杯 不锈钢 500ml 批发");
    let p = l.price.as_ref().unwrap();
    assert_eq!((p.amount, p.max), (8.5, Some(9.9)));
    assert_eq!(
        l.moq.as_ref().map(|m| (m.quantity, m.unit.as_str())),
        Some((3, "个"))
    );
    assert_eq!(l.seller.id.as_deref(), Some("奥罗拉杯业"));
    assert_eq!(l.seller.name.as_deref(), Some("永康市奥罗拉杯业有限公司"));
    assert_eq!(
        l.images,
        ["https://cbu01.alicdn.com/img/ibank/2019/111/222/1111222_99.jpg"]
    );
}

/// The 2024–2026 `s.1688.com` card grid as documented by public scraper
/// tests (e.g. `xianyu_tools` 1688 adapter fixtures): `a.ocms-fusion-1688-
/// pc-pc-ad-common-offer-2024[data-aplus-report=position@1^object_id@…]`
/// wrapping `.search-offer-item` (a nested shop `<a>` splits the anchor
/// when parsed), prices split into `327` + `.5`, "已售500+件", "1件起批",
/// links to `detail.m.1688.com/page/index.html?offerId=`; and the hashed
/// React cards `searchOfferWrapper--…[data-renderkey=…_<id>]`. No real
/// saved page of this grid was found; the fixture follows those notes.
#[test]
fn search_2025_rendered_cards_with_ads() {
    let l = support::parse_listings(
        "https://s.1688.com/selloffer/offer_search.htm?keywords=%B0%C2%C2%DE%C0%AD",
        "1688/search_2025_rendered_cards.html",
        None,
    );
    assert_eq!(l.len(), 6);
    let ad = &l[0];
    assert_eq!(ad.id, "914998390000");
    assert!(ad.sponsored);
    assert_eq!(ad.title, "奥罗拉升降电脑桌 款1");
    assert_eq!(ad.price.as_ref().unwrap().amount, 327.5);
    assert_eq!(ad.sales.as_ref().map(|s| s.count), Some(500));
    assert_eq!(ad.seller.name.as_deref(), Some("霸州市奥罗拉校具1厂"));
    assert_eq!(
        ad.images,
        ["https://cbu01.alicdn.com/img/ibank/O1CN01AurDesk0_!!22180000-0-cib.jpg"]
    );
    assert!(!l[1].sponsored);
    assert_eq!(l[1].url, "https://detail.1688.com/offer/914998390001.html");
    let lamp = &l[4];
    assert_eq!(lamp.id, "974690110000");
    assert_eq!(lamp.price.as_ref().unwrap().amount, 12.02);
    assert_eq!(lamp.sales.as_ref().map(|s| s.count), Some(24_000));
    assert_eq!(lamp.moq.as_ref().map(|m| m.quantity), Some(1));
    assert_eq!(lamp.seller.name.as_deref(), Some("奥罗拉灯饰供应链1"));
}
