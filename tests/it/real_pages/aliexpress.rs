//! AliExpress fixtures that reproduce real captured pages: item pages of
//! 2020 (module `runParams`), 2023 (named components) and the 2024–25
//! client-rendered builds (og/app-link meta, `_d_c_.DCData`), search
//! pages with `runParams` (2022), `_init_data_` (2023–26), aliexpress.ru's
//! React cards and a browser-saved 2026 rendered grid. Titles, ids,
//! sellers and photos are invented (brand AURORA); structure, variable
//! names, nesting, escaping and noise follow the pages named per test.

use super::support;
use knockoff::marketplaces::PageOutcome;
use knockoff::model::listing::Listing;

const DIR: &str = "aliexpress";

fn rel(name: &str) -> String {
    format!("{DIR}/{name}")
}

fn one(url: &str, name: &str) -> Listing {
    let got = support::parse_listings(url, &rel(name), Some("text/html; charset=utf-8"));
    assert_eq!(got.len(), 1, "an item page is one listing: {got:?}");
    got.into_iter().next().unwrap()
}

fn total(url: &str, name: &str) -> Option<u64> {
    match support::parse(url, &rel(name), None) {
        PageOutcome::Ok { total, .. } => total,
        other => panic!("expected Ok, got {other:?}"),
    }
}

fn price(l: &Listing) -> (f64, Option<f64>, String) {
    let p = l
        .price
        .as_ref()
        .unwrap_or_else(|| panic!("no price: {l:?}"));
    (p.amount, p.max, p.currency.clone())
}

/// Mirrors jshemas/openGraphScraperPages, aliexpress.html (2020, a
/// he.aliexpress.com item saved from a browser): `window.runParams = {
/// data: {…modules…}, csrfToken: '…', abVersion: '', abtestMap: {} }` (a
/// JavaScript literal, not JSON), EUR prices formatted `€ 97,39 - 128,72`,
/// og:title decorated `€97.39 40% OFF|<title>|<category>|   - AliExpress`,
/// protocol-relative og:url and store URL, description photos on the same
/// `/kf/` CDN, login links in the header.
#[test]
fn item_2020_module_run_params_on_he_locale() {
    let l = one(
        "https://he.aliexpress.com/item/4000123456789.html",
        "item_2020_he_modules_saved.html",
    );
    assert_eq!(l.id, "4000123456789");
    assert_eq!(l.url, "https://www.aliexpress.com/item/4000123456789.html");
    assert_eq!(
        l.title,
        "AURORA Ceramic Espresso Cup Set 4 pcs with Saucers \u{2018}Gift Box\u{2019}"
    );
    assert_eq!(price(&l), (97.39, Some(128.72), "EUR".to_string()));
    assert_eq!(l.seller.name.as_deref(), Some("Aurora Home Official Store"));
    assert_eq!(l.seller.id.as_deref(), Some("1392000"));
    assert_eq!(
        l.seller.url.as_deref(),
        Some("https://he.aliexpress.com/store/1392000")
    );
    assert_eq!(l.seller.country.as_deref(), Some("China"));
    assert_eq!(l.images.len(), 5, "{:?}", l.images);
    assert_eq!(
        l.images[0],
        "https://ae01.alicdn.com/kf/HTB1Aurora1XXq6xXFXXX/AURORA-Ceramic-Espresso-Cup-Set.jpg"
    );
    assert!(
        l.images.iter().all(|i| !i.contains("HTB1Desc")),
        "description photos are not the product's: {:?}",
        l.images
    );
    assert_eq!(l.sales.as_ref().map(|s| s.count), Some(6));
    assert!(l.missing.is_empty(), "{:?}", l.missing);
}

/// Mirrors the 2023 "component" item data read by
/// Brandon689/AliExpress.UnAuth.API, Program.cs and Models/ (`window.runParams
/// = {\n data: {productInfoComponent, priceComponent{discountPrice,
/// origPrice}, sellerComponent, imageComponent, tradeComponent…} }`), on
/// de.aliexpress.com with EUR, plus a script config that embeds a
/// `/_____tmd_____/punish?x5secdata=` fallback URL.
#[test]
fn item_2023_named_components_on_de_locale() {
    let l = one(
        "https://de.aliexpress.com/item/1005005123456789.html",
        "item_2023_de_components.html",
    );
    assert_eq!(l.id, "1005005123456789");
    assert_eq!(
        l.url,
        "https://www.aliexpress.com/item/1005005123456789.html"
    );
    assert_eq!(l.title, "AURORA Thermo Travel Mug 450 ml Edelstahl");
    assert_eq!(price(&l), (11.2, Some(15.9), "EUR".to_string()));
    assert_eq!(l.seller.name.as_deref(), Some("AURORA Drinkware Store"));
    assert_eq!(l.seller.id.as_deref(), Some("1102000001"));
    assert_eq!(
        l.seller.url.as_deref(),
        Some("https://www.aliexpress.com/store/1102000001")
    );
    assert_eq!(l.images.len(), 4);
    assert_eq!(
        l.images[0],
        "https://ae01.alicdn.com/kf/S1a1b2c3d4e5f6aurora1Q.jpg"
    );
    // "1.000+" on a German page is a thousand, not one.
    assert_eq!(l.sales.as_ref().map(|s| s.count), Some(1000));
    assert!(l.missing.is_empty(), "{:?}", l.missing);
}

/// Mirrors fares21/AliexpressTelegramBotBasic, aliexpress_page.html
/// (es.aliexpress.com, 2024) and duduzinho15/Ainda-nao-funciona,
/// aliexpress_page_direct.html (pt., 2025): the client-rendered build.
/// `window.runParams = {\n };` is empty; the item is only in og:title
/// (" - AliExpress 509" suffix), a protocol-relative og:url with tracking
/// query, `al:*` app links and `window._d_c_.DCData.imagePathList`; no
/// canonical link; a hidden `<h1>Aliexpress</h1>` in the header; a
/// "Google Play" link under `/store/`; price and store come later by XHR.
#[test]
fn item_2024_client_rendered_build_reads_meta_and_dc_data() {
    let l = one(
        "https://es.aliexpress.com/item/1005006555000111.html?spm=a2g0o.productlist.main.1",
        "item_2024_es_csr.html",
    );
    assert_eq!(l.id, "1005006555000111");
    assert_eq!(
        l.url,
        "https://www.aliexpress.com/item/1005006555000111.html"
    );
    assert_eq!(
        l.title,
        "AURORA cargador rápido USB tipo C GaN 65W, enchufe UE/EE. UU."
    );
    assert_eq!(l.images.len(), 6, "{:?}", l.images);
    assert_eq!(
        l.images[0],
        "https://ae01.alicdn.com/kf/S1c459c458aurora1d/AURORA-cargador-rapido-USB-tipo-C.jpg"
    );
    assert_eq!(
        l.images[1],
        "https://ae01.alicdn.com/kf/S2c459c458aurora2d/AURORA-cargador-rapido-USB-tipo-C.png"
    );
    assert!(l.price.is_none());
    assert_eq!(l.seller.name, None, "Google Play is not a store");
    assert_eq!(l.missing, vec!["price".to_string(), "seller".to_string()]);
}

/// Mirrors duduzinho15/Ainda-nao-funciona, aliexpress_page.html (pt.,
/// 2025): the same client-rendered build re-serialised by BeautifulSoup's
/// prettify (`content` before `property`, `&amp;` in attributes, the
/// hidden header `<h1>` text on its own indented line).
#[test]
fn item_2025_client_rendered_build_prettified_by_a_tool() {
    let l = one(
        "https://pt.aliexpress.com/item/1005009000222333.html",
        "item_2025_pt_csr_prettified.html",
    );
    assert_eq!(l.id, "1005009000222333");
    assert_eq!(
        l.title,
        "Carrinho AURORA multifuncional branco 2025 com prateleiras & rodízios"
    );
    assert_eq!(l.images.len(), 6);
    assert!(l
        .images
        .iter()
        .all(|i| i.starts_with("https://ae01.alicdn.com/kf/") && !i.contains("_80x80")));
    assert_eq!(l.missing, vec!["price".to_string(), "seller".to_string()]);
}

/// The 2022 search page on es.aliexpress.com as the notes on real pages
/// describe it (shared/marketplaces.md, "What real pages taught us"):
/// `window.runParams = {"mods":{"itemList":{"content":[…60…]}}}` while
/// only 10 cards are drawn (hashed class names, store links beside the
/// card link), prices formatted for an Argentine visitor (`ARS 1.515,50`:
/// dot thousands, comma decimals), some entries with only the formatted
/// price, a punish URL in a script config.
#[test]
fn search_2022_run_params_keeps_all_sixty_items_with_ars_prices() {
    let url = "https://es.aliexpress.com/wholesale?SearchText=aurora&page=1";
    let name = "search_2022_es_runparams_ars.html";
    let got = support::parse_listings(url, &rel(name), None);
    assert_eq!(got.len(), 60);
    assert_eq!(total(url, name), Some(1843));
    let first = &got[0];
    assert_eq!(first.id, "1005004100000000");
    assert_eq!(
        first.url,
        "https://www.aliexpress.com/item/1005004100000000.html"
    );
    assert_eq!(first.title, "AURORA Espresso Cup modelo 0");
    assert_eq!(price(first), (515.5, None, "ARS".to_string()));
    assert!(first.sponsored);
    assert_eq!(first.seller.name.as_deref(), Some("Aurora Shop 0"));
    assert_eq!(first.seller.id.as_deref(), Some("1100000000"));
    assert_eq!(
        first.images,
        vec!["https://ae01.alicdn.com/kf/Sauro00a1b2c3.jpg"]
    );
    assert_eq!(got[1].sales.as_ref().map(|s| s.count), Some(38));
    // Formatted-only entries: "ARS 1.016,75" is a thousand and sixteen.
    assert_eq!(price(&got[5]), (1016.75, None, "ARS".to_string()));
    assert_eq!(price(&got[11]), (1618.25, None, "ARS".to_string()));
    assert!(got.iter().all(|l| l.price.is_some() && !l.title.is_empty()));
    assert!(got
        .iter()
        .all(|l| l.url.starts_with("https://www.aliexpress.com/item/")));
}

/// The 2023–26 search page (`/*!-->init-data-start--*/
/// window._dida_config_._init_data_= { data: {hierarchy, data: {root:
/// {fields: {mods: {itemList: {content}}, pageInfo}}}} }`), as found in
/// the index (hierarchy `main2023_3717`) and in shared/marketplaces.md;
/// a loader script mentions `window._dida_config_._init_data_` before the
/// assignment; a related-searches tile sits among the 60 products.
#[test]
fn search_2024_init_data_lists_sixty_products() {
    let url = "https://www.aliexpress.com/w/wholesale-aurora.html?page=1";
    let name = "search_2024_www_dida.html";
    let got = support::parse_listings(url, &rel(name), None);
    assert_eq!(got.len(), 60);
    assert_eq!(total(url, name), Some(2571));
    let l = &got[1];
    assert_eq!(l.id, "1005006200104729");
    assert_eq!(l.title, "AURORA Travel Mug 1 pcs");
    assert_eq!(price(l), (2.49, None, "USD".to_string()));
    assert_eq!(l.sales.as_ref().map(|s| s.count), Some(131));
    assert_eq!(l.seller.name.as_deref(), Some("AURORA Official 1"));
    assert_eq!(l.seller.id.as_deref(), Some("1102100001"));
    assert_eq!(
        l.images,
        vec!["https://ae-pic-a1.aliexpress-media.com/kf/Sdida01f00d.jpg"]
    );
    assert!(got[0].sponsored && got[15].sponsored && !got[1].sponsored);
    // Only the formatted price: "US $3.49".
    assert_eq!(price(&got[3]), (3.49, None, "USD".to_string()));
    assert_eq!(got[10].sales.as_ref().map(|s| s.count), Some(1310));
}

/// Mirrors Giorgi-77/Data_Scraping_Final, aliexpress_debug.html (and the
/// same page in Lizzzz12/finalProject), an aliexpress.ru "popular" search
/// rendered by its React app (2025): 25 `div[data-product-id]` cards
/// marked `data-w-spm-c="search_results"` (5 with `data-ad="ad"`), then a
/// "Selected for you" block of 20 `rcmdprod` cards in the same markup,
/// two of them repeating results; prices in the visitor's currency
/// (`10.88&nbsp;GEL` struck through first, then the current price in
/// `priceNew`), titles in `div[title]`, no store names; data in
/// `<script id="__AER_DATA__">` holds no products.
#[test]
fn search_ru_react_cards_without_recommendations() {
    let url = "https://aliexpress.ru/popular/наушники-aurora";
    let got = support::parse_listings(url, &rel("search_2025_ru_react_cards.html"), None);
    assert_eq!(got.len(), 25);
    let ids: Vec<String> = (0..25u64)
        .map(|i| (1005008800000000u64 + i * 3571).to_string())
        .collect();
    assert_eq!(got.iter().map(|l| l.id.clone()).collect::<Vec<_>>(), ids);
    assert!(got.iter().all(|l| !l.title.contains("Recommended")));
    let l = &got[0];
    assert_eq!(
        l.url,
        format!("https://www.aliexpress.com/item/{}.html", ids[0])
    );
    assert_eq!(l.title, "AURORA Wireless Earbuds Bluetooth 5.3 model 0");
    assert_eq!(price(l), (4.68, None, "GEL".to_string()));
    assert_eq!(l.images, vec!["https://ae04.alicdn.com/kf/Sru0000000r.jpg"]);
    assert_eq!(l.missing, vec!["seller".to_string()]);
    assert_eq!(got[1].sales.as_ref().map(|s| s.count), Some(423));
    assert_eq!(price(&got[10]), (15.68, None, "GEL".to_string()));
    assert!(got[16].sponsored && got[16].sales.is_none());
    assert_eq!(got.iter().filter(|l| l.sponsored).count(), 5);
}

/// Mirrors IPAssociatesLLC/bonanza-ds, debug_aliexpress.html (a 2026
/// dump of a rendered www.aliexpress.com search, saved as a DOM tree):
/// every class hashed (`lk_b in_is search-card-item`, `lk_gm`), links to
/// `www.aliexpress.us/item/3256….html` with tracking queries, one card
/// linking a `BundleDeals2?productIds=<id>:<sku>` page instead of an
/// item, the sale price only as `aria-label="$5.13"` over split spans
/// beside the struck-through price, `.avif` thumbnails, the store name
/// as plain text, a `search_p4p_id` (sponsored) link.
#[test]
fn search_2026_rendered_grid_with_hashed_classes() {
    let url = "https://www.aliexpress.com/w/wholesale-surfboard.html?page=1";
    let got = support::parse_listings(url, &rel("search_2026_us_rendered_saved.html"), None);
    assert_eq!(got.len(), 12);
    let b = &got[0];
    assert_eq!(b.id, "1005009116551268");
    assert_eq!(b.title, "1 Pcs AURORA Inflatable Surfboard for Beach Party");
    assert_eq!(price(b), (5.13, None, "USD".to_string()));
    assert_eq!(
        b.images,
        vec!["https://ae-pic-a1.aliexpress-media.com/kf/Sa67fe7e01b53448480d3151e8991a9ef3.png"]
    );
    assert_eq!(b.sales.as_ref().map(|s| s.count), Some(700));
    let l = &got[1];
    assert_eq!(l.id, "3256811871880911");
    assert_eq!(
        l.url,
        "https://www.aliexpress.com/item/3256811871880911.html"
    );
    assert_eq!(price(l), (10.95, None, "USD".to_string()));
    assert_eq!(l.sales.as_ref().map(|s| s.count), Some(143));
    assert!(got[3].sponsored && !got[2].sponsored);
    assert!(got.iter().all(|l| l.missing == vec!["seller".to_string()]));
}
