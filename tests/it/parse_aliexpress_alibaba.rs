//! The AliExpress and Alibaba.com parsers on every recorded seed page, field
//! by field, through the same path a scan takes (manifest → bytes →
//! `parse_page`); plus blocks, drift on mutated pages, and the URLs a scan
//! plans against the recording.

use knockoff::marketplaces::{for_platform, parse_page, PageKind, PageOutcome};
use knockoff::model::listing::{Listing, Platform, SalesKind};
use knockoff::model::recording::Recording;
use std::path::Path;
use url::Url;

const SEEDS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/seeds");

const AE_P1: &str = "https://www.aliexpress.com/w/wholesale-aurora.html?page=1";
const AE_P2: &str = "https://www.aliexpress.com/w/wholesale-aurora.html?page=2";
const AE_P3: &str = "https://www.aliexpress.com/w/wholesale-aurora.html?page=3";
const AE_ITEM_RUNPARAMS: &str = "https://www.aliexpress.com/item/1005006123456789.html";
const AE_ITEM_COMPONENTS: &str = "https://www.aliexpress.com/item/1005006890123456.html";
const AE_ITEM_2026: &str = "https://www.aliexpress.com/item/1005006789012345.html";
const AB_SEARCH: &str = "https://www.alibaba.com/trade/search?SearchText=aurora&page=1";
const AB_PRODUCT_CUP: &str =
    "https://www.alibaba.com/product-detail/AURORA-Barista-Espresso-Cup-1-1-Replica_1600123456789.html";
const AB_PRODUCT_ROCKET: &str = "https://www.alibaba.com/product-detail/AURORA-Falcon-Model-Rocket-Kit-Wholesale-Distributor_1600901234567.html";

fn recording() -> Recording {
    Recording::open(SEEDS).expect("seeds/manifest.toml loads")
}

/// The recorded body of a URL, as text.
fn body(url: &str) -> String {
    let rec = recording();
    let page = rec
        .find(url)
        .unwrap_or_else(|| panic!("{url} is not in seeds/manifest.toml"));
    String::from_utf8(rec.read_body(page).expect("body reads")).expect("seed pages are UTF-8")
}

/// Parses a recorded page the way a scan does.
fn outcome(platform: Platform, url: &str) -> PageOutcome {
    let rec = recording();
    let page = rec.find(url).expect("recorded");
    let bytes = rec.read_body(page).expect("body reads");
    parse_page(
        platform,
        &Url::parse(url).unwrap(),
        &bytes,
        Some(&page.content_type),
    )
}

/// Parses a (possibly mutated) page text.
fn parse_text(platform: Platform, url: &str, html: &str) -> PageOutcome {
    parse_page(platform, &Url::parse(url).unwrap(), html.as_bytes(), None)
}

fn ok_listings(o: PageOutcome) -> (Vec<Listing>, Option<u64>) {
    match o {
        PageOutcome::Ok {
            listings, total, ..
        } => (listings, total),
        other => panic!("expected listings, got {other:?}"),
    }
}

/// One expected search-card row: id, title, price (min, max), seller name,
/// seller id, image, sales count, sponsored.
struct AeRow {
    id: &'static str,
    title: &'static str,
    price: f64,
    store: &'static str,
    store_id: &'static str,
    image: &'static str,
    sold: Option<u64>,
    sponsored: bool,
}

const AE_PAGE1: &[AeRow] = &[
    AeRow {
        id: "1005006123456789",
        title: "AURORA Barista Espresso Cup 1:1 Ceramic Double Wall 80ml with Gift Box",
        price: 4.99,
        store: "Best Coffee Gear Store",
        store_id: "1103456789",
        image: "https://ae01.alicdn.com/kf/S27f237e6b7f96587b6202ff3607ad88aQ.jpg",
        sold: Some(1000),
        sponsored: false,
    },
    AeRow {
        id: "1005006234567890",
        title: "Auorra Falcon Model Rocket Kit Assembled Launch Pad Display Toy",
        price: 18.50,
        store: "Sky Hobby Toys Store",
        store_id: "1104567890",
        image: "https://ae01.alicdn.com/kf/Sc6bdf6f65f3845da9085e9ae5790b494R.jpg",
        sold: Some(312),
        sponsored: true,
    },
    AeRow {
        id: "1005006345678901",
        title: "AURORA Barista Espresso Cup Official 80ml Porcelain",
        price: 39.00,
        store: "Aurora Official Store",
        store_id: "1100234567",
        image: "https://ae-pic-a1.aliexpress-media.com/kf/S6593d7b12fd418cdb35bbf438de72f66k.webp",
        sold: Some(2000),
        sponsored: false,
    },
    AeRow {
        id: "1005006456789012",
        title: "Aurora Borealis Galaxy Projector Lamp Star Night Light 360° Rotating",
        price: 12.99,
        store: "Starry Home Decor Store",
        store_id: "1105678901",
        image: "https://ae01.alicdn.com/kf/S0c2f3adf2a48bab3adb470f4da57f3d0L.jpg",
        sold: Some(5000),
        sponsored: false,
    },
    AeRow {
        id: "1005006567890123",
        title: "Silicone Sleeve for Aurora Espresso Cup Heat Resistant Grip 2pcs",
        price: 3.20,
        store: "CupCare Accessories Store",
        store_id: "1106789012",
        image: "https://ae01.alicdn.com/kf/Sc6f2f93133905f75da4b02ccc19ab66aC.jpg",
        sold: Some(85),
        sponsored: false,
    },
    AeRow {
        id: "1005006678901234",
        title: "Astronaut Space Poster Canvas Wall Art Print 50x70cm Unframed",
        price: 6.80,
        store: "Galaxy Art Prints Store",
        store_id: "1107890123",
        image: "https://ae01.alicdn.com/kf/S0b3d5609ee81e50809b7351e848e4698W.jpg",
        sold: Some(640),
        sponsored: false,
    },
    AeRow {
        id: "1005006789012345",
        title: "AAA Quality Aurora Astronaut Poster Replica Print Unframed",
        price: 2.99,
        store: "Poster Planet Store",
        store_id: "1108901234",
        image: "https://ae01.alicdn.com/kf/Sbe523bdcc111d8113eb54f747d89d4d7B.jpg",
        sold: Some(1500),
        sponsored: false,
    },
    AeRow {
        id: "1005007234567890",
        title: "Aurora Cat Toy Feather Wand Interactive Teaser with Bell",
        price: 2.10,
        store: "Happy Paws Pet Store",
        store_id: "1109012345",
        image: "https://ae01.alicdn.com/kf/S0b92b8b2602c011d1831c6c27ef74b76H.jpg",
        sold: Some(10000),
        sponsored: false,
    },
];

const AE_PAGE2: &[AeRow] = &[
    AeRow {
        id: "1005006890123456",
        title: "Aurorra Espresso Cup Mirror Quality Porcelain 80ml Coffee Cup",
        price: 5.60,
        store: "Mocha Life Store",
        store_id: "1102345678",
        image: "https://ae01.alicdn.com/kf/Sfd301d675be7b677ba979a430a80c010F.jpg",
        sold: Some(230),
        sponsored: false,
    },
    AeRow {
        id: "1005006901234567",
        title: "AURORA Falcon Model Rocket 1/72 Scale Kit Official",
        price: 120.00,
        store: "Aurora Official Store",
        store_id: "1100234567",
        image: "https://ae01.alicdn.com/kf/S8650e375ee80b2277a84fc9b85375e36P.webp",
        sold: Some(150),
        sponsored: false,
    },
    AeRow {
        id: "1005007012345678",
        title: "Display Stand Compatible with AURORA Falcon Model Rocket Acrylic Base",
        price: 7.50,
        store: "Maker Parts Store",
        store_id: "1103344556",
        image: "https://ae01.alicdn.com/kf/S4657042965f502f52dcf78fdcc952651Z.jpg",
        sold: Some(47),
        sponsored: false,
    },
    AeRow {
        id: "1005007123456789",
        title: "Aurora Barista Espresso Cup Ceramic 80ml",
        price: 35.00,
        store: "Kitchen Joy Store",
        store_id: "1104455667",
        image: "https://ae01.alicdn.com/kf/Sf4ebc728df05346e7d2f785b1ff8fc5bJ.jpg",
        sold: None,
        sponsored: false,
    },
];

fn check_ae_rows(listings: &[Listing], rows: &[AeRow], source: &str) {
    assert_eq!(
        listings.iter().map(|l| l.id.as_str()).collect::<Vec<_>>(),
        rows.iter().map(|r| r.id).collect::<Vec<_>>()
    );
    for (l, r) in listings.iter().zip(rows) {
        assert_eq!(l.platform, Platform::AliExpress);
        assert_eq!(
            l.url,
            format!("https://www.aliexpress.com/item/{}.html", r.id)
        );
        assert_eq!(l.title, r.title, "{}", r.id);
        let p = l.price.as_ref().expect("price");
        assert_eq!(
            (p.amount, p.max, p.currency.as_str()),
            (r.price, None, "USD"),
            "{}",
            r.id
        );
        assert_eq!(l.seller.name.as_deref(), Some(r.store), "{}", r.id);
        assert_eq!(l.seller.id.as_deref(), Some(r.store_id), "{}", r.id);
        assert_eq!(
            l.seller.url.as_deref(),
            Some(format!("https://www.aliexpress.com/store/{}", r.store_id).as_str())
        );
        assert_eq!(l.images, vec![r.image.to_string()], "{}", r.id);
        assert_eq!(l.sales.as_ref().map(|s| s.count), r.sold, "{}", r.id);
        if let Some(s) = &l.sales {
            assert_eq!(s.kind, SalesKind::Sold);
            assert!(s.text.ends_with("sold"), "{}", s.text);
        }
        assert_eq!(l.sponsored, r.sponsored, "{}", r.id);
        assert_eq!(l.moq, None);
        assert_eq!(l.source_url, source);
        assert!(l.missing.is_empty(), "{}: {:?}", r.id, l.missing);
    }
}

#[test]
fn aliexpress_search_init_data_layout_field_by_field() {
    let (listings, total) = ok_listings(outcome(Platform::AliExpress, AE_P1));
    assert_eq!(total, Some(12));
    check_ae_rows(&listings, AE_PAGE1, AE_P1);
}

#[test]
fn aliexpress_search_older_run_params_layout_field_by_field() {
    let (listings, total) = ok_listings(outcome(Platform::AliExpress, AE_P2));
    assert_eq!(total, Some(12));
    check_ae_rows(&listings, AE_PAGE2, AE_P2);
}

#[test]
fn aliexpress_rendered_cards_agree_with_the_json_and_stand_in_for_it() {
    // Without the JSON the four server-rendered cards are all that is
    // left; they must say what the JSON says about those items.
    let html = body(AE_P1).replace("window._dida_config_._init_data_", "window._gone_");
    let (listings, _) = ok_listings(parse_text(Platform::AliExpress, AE_P1, &html));
    check_ae_rows(&listings, &AE_PAGE1[..4], AE_P1);
}

#[test]
fn aliexpress_item_page_server_rendered_run_params() {
    let (listings, _) = ok_listings(outcome(Platform::AliExpress, AE_ITEM_RUNPARAMS));
    assert_eq!(listings.len(), 1);
    let l = &listings[0];
    assert_eq!(l.id, "1005006123456789");
    assert_eq!(l.url, AE_ITEM_RUNPARAMS);
    assert_eq!(
        l.title,
        "AURORA Barista Espresso Cup 1:1 Ceramic Double Wall 80ml with Gift Box"
    );
    let p = l.price.as_ref().unwrap();
    // The activity (sale) price, not the struck-through list price.
    assert_eq!((p.amount, p.max, p.currency.as_str()), (4.99, None, "USD"));
    assert_eq!(l.seller.name.as_deref(), Some("Best Coffee Gear Store"));
    assert_eq!(l.seller.id.as_deref(), Some("1103456789"));
    assert_eq!(
        l.seller.url.as_deref(),
        Some("https://www.aliexpress.com/store/1103456789")
    );
    assert_eq!(
        l.images,
        vec![
            "https://ae01.alicdn.com/kf/S27f237e6b7f96587b6202ff3607ad88aQ.jpg",
            "https://ae01.alicdn.com/kf/S4ed6fbb02621fea1db8c63ad57eda1e8T.jpg",
        ]
    );
    assert_eq!(l.sales.as_ref().unwrap().count, 1000);
    assert!(l.missing.is_empty());
}

#[test]
fn aliexpress_item_page_component_schema() {
    let (listings, _) = ok_listings(outcome(Platform::AliExpress, AE_ITEM_COMPONENTS));
    let l = &listings[0];
    assert_eq!(l.id, "1005006890123456");
    assert_eq!(l.url, AE_ITEM_COMPONENTS);
    assert_eq!(
        l.title,
        "Aurorra Espresso Cup Mirror Quality Porcelain 80ml Coffee Cup"
    );
    let p = l.price.as_ref().unwrap();
    assert_eq!((p.amount, p.currency.as_str()), (5.60, "USD"));
    assert_eq!(l.seller.name.as_deref(), Some("Mocha Life Store"));
    assert_eq!(l.seller.id.as_deref(), Some("1102345678"));
    assert_eq!(
        l.images,
        vec![
            "https://ae01.alicdn.com/kf/Sfd301d675be7b677ba979a430a80c010F.jpg",
            "https://ae01.alicdn.com/kf/S9cde3b9d9debff3a1c163e7800ee3354N.jpg",
        ]
    );
    assert_eq!(l.sales.as_ref().unwrap().count, 230);
}

#[test]
fn aliexpress_item_page_2026_names_what_it_lacks() {
    let (listings, _) = ok_listings(outcome(Platform::AliExpress, AE_ITEM_2026));
    let l = &listings[0];
    assert_eq!(l.id, "1005006789012345");
    assert_eq!(l.url, AE_ITEM_2026);
    // og:title without the " - AliExpress 21" suffix.
    assert_eq!(
        l.title,
        "AAA Quality Aurora Astronaut Poster Replica Print Unframed"
    );
    assert_eq!(l.price, None);
    assert_eq!(l.seller.name, None);
    // og:image first, then the gallery at full size (no _80x80 suffix).
    assert_eq!(
        l.images,
        vec![
            "https://ae01.alicdn.com/kf/Sbe523bdcc111d8113eb54f747d89d4d7B.jpg",
            "https://ae01.alicdn.com/kf/Sdcf08615c07e559717021aa0d40030d1E.jpg",
        ]
    );
    assert_eq!(l.missing, vec!["price", "seller"]);
}

#[test]
fn aliexpress_punish_page_at_200_is_blocked_not_empty() {
    let rec = recording();
    assert_eq!(rec.find(AE_P3).unwrap().status, 200);
    match outcome(Platform::AliExpress, AE_P3) {
        PageOutcome::Blocked {
            platform,
            marker,
            found_in,
            ..
        } => {
            assert_eq!(platform, Platform::AliExpress);
            assert!(marker.contains("captcha"), "{marker}");
            assert_eq!(
                found_in,
                knockoff::marketplaces::block::Evidence::MainContent
            );
        }
        other => panic!("punish page not blocked: {other:?}"),
    }
    // The parser on its own finds no listing; the block check is shared
    // and runs after it (`parse_page`).
    let html = body(AE_P3);
    let out = for_platform(Platform::AliExpress).parse(&Url::parse(AE_P3).unwrap(), &html);
    assert!(out.listings().is_empty(), "{out:?}");
}

fn assert_drift(out: PageOutcome, page: PageKind, wanted: &str) {
    match out {
        PageOutcome::Drift {
            page: p, missing, ..
        } => {
            assert_eq!(p, page);
            assert!(
                missing.iter().any(|m| m.contains(wanted)),
                "missing {missing:?} does not name {wanted}"
            );
        }
        other => panic!("expected drift, got {other:?}"),
    }
}

#[test]
fn aliexpress_search_without_its_json_blob_is_drift() {
    // p2 renders no cards, so without runParams nothing is left.
    let html = body(AE_P2).replace("window.runParams", "window.notRunParams");
    assert_drift(
        parse_text(Platform::AliExpress, AE_P2, &html),
        PageKind::Search,
        "itemList",
    );
    // p1 without JSON and without its cards' item links.
    let html = body(AE_P1)
        .replace("window._dida_config_._init_data_", "window._gone_")
        .replace("/item/", "/itm/");
    assert_drift(
        parse_text(Platform::AliExpress, AE_P1, &html),
        PageKind::Search,
        "itemList",
    );
}

#[test]
fn aliexpress_search_with_prices_stripped_is_drift() {
    let html = body(AE_P2)
        .replace("\"salePrice\"", "\"salePriceGone\"")
        .replace("\"originalPrice\"", "\"originalPriceGone\"");
    assert_drift(
        parse_text(Platform::AliExpress, AE_P2, &html),
        PageKind::Search,
        "price",
    );
    // p1: the JSON prices and the cards' price markup both gone.
    let html = body(AE_P1)
        .replace("\"salePrice\"", "\"salePriceGone\"")
        .replace("\"originalPrice\"", "\"originalPriceGone\"")
        .replace("multi--price", "multi--cost");
    assert_drift(
        parse_text(Platform::AliExpress, AE_P1, &html),
        PageKind::Search,
        "price",
    );
}

#[test]
fn unknown_layouts_and_empty_pages_are_drift_not_zero_listings() {
    let shell = "<!DOCTYPE html><html><head><title>AliExpress</title></head><body><div id=\"root\"></div><script src=\"//assets.alicdn.com/x.js\"></script></body></html>";
    for (platform, url) in [
        (Platform::AliExpress, AE_P1),
        (Platform::AliExpress, AE_ITEM_RUNPARAMS),
        (Platform::Alibaba, AB_SEARCH),
        (Platform::Alibaba, AB_PRODUCT_CUP),
    ] {
        for html in [shell, ""] {
            let out = parse_text(platform, url, html);
            assert!(
                matches!(out, PageOutcome::Drift { platform: p, .. } if p == platform),
                "{url}: {out:?}"
            );
        }
    }
    // A page that is not HTML at all.
    let out = parse_page(
        Platform::AliExpress,
        &Url::parse(AE_P1).unwrap(),
        &[0xff, 0xd8, 0xff, 0xe0, 0, 0x10, b'J', b'F', b'I', b'F'],
        Some("image/jpeg"),
    );
    assert!(matches!(out, PageOutcome::Drift { .. }), "{out:?}");
}

/// Alibaba.com expected rows: id, slug URL, title, price range, moq,
/// supplier name, supplier id, country, years, image.
struct AbRow {
    id: &'static str,
    url: &'static str,
    title: &'static str,
    price: (f64, f64),
    moq: (u64, &'static str),
    supplier: &'static str,
    supplier_id: &'static str,
    country: &'static str,
    years: u32,
    image: &'static str,
}

const AB_ROWS: &[AbRow] = &[
    AbRow {
        id: "1600123456789",
        url: AB_PRODUCT_CUP,
        title: "AURORA Barista Espresso Cup 1:1 Replica Ceramic Coffee Cups Wholesale",
        price: (1.20, 1.80),
        moq: (500, "Pieces"),
        supplier: "Yiwu Shengda Trading Co., Ltd.",
        supplier_id: "shengdatrade",
        country: "CN",
        years: 3,
        image: "https://s.alicdn.com/@sc04/kf/Hc9512565ef6194ca664dc41ec0de7a53X.jpg",
    },
    AbRow {
        id: "1600234567890",
        url: "https://www.alibaba.com/product-detail/AURORA-Barista-Espresso-Cup-Wholesale-Hotel-Cafe_1600234567890.html",
        title: "AURORA Barista Espresso Cup Wholesale Hotel Cafe Supply",
        price: (24.00, 31.00),
        moq: (50, "Pieces"),
        supplier: "Aurora Outfitters Ltd.",
        supplier_id: "auroraoutfitters",
        country: "GB",
        years: 8,
        image: "https://s.alicdn.com/@sc04/kf/Hbbd97b00c539801e32317ab550867ec4u.jpg",
    },
    AbRow {
        id: "1600456789012",
        url: "https://www.alibaba.com/product-detail/Aurora-Borealis-Northern-Lights-Projector-LED-Star_1600456789012.html",
        title: "Aurora Borealis Northern Lights Projector LED Star Night Lamp",
        price: (3.10, 4.20),
        moq: (20, "Pieces"),
        supplier: "Shenzhen Brightstar Lighting Co., Ltd.",
        supplier_id: "brightstarlight",
        country: "CN",
        years: 11,
        image: "https://s.alicdn.com/@sc04/kf/Hd5d4cc7b09d1843517acc9361f8f665eG.jpg",
    },
    AbRow {
        id: "1600567890123",
        url: "https://www.alibaba.com/product-detail/Astronaut-Poster-Space-Canvas-Painting-Wall-Art_1600567890123.html",
        title: "Astronaut Poster Space Canvas Painting Wall Art Print Custom Size",
        price: (0.85, 1.50),
        moq: (100, "Pieces"),
        supplier: "Xiamen Artful Crafts Co., Ltd.",
        supplier_id: "artfulcrafts",
        country: "CN",
        years: 6,
        image: "https://s.alicdn.com/@sc04/kf/H2a1ab298edf0162a3305e599b47cbeeeR.jpg",
    },
    AbRow {
        id: "1600678901234",
        url: "https://www.alibaba.com/product-detail/Mirror-Quality-Aurorra-Astronaut-Poster-AAA-Print_1600678901234.html",
        title: "Mirror Quality Aurorra Astronaut Poster AAA Print Factory Price",
        price: (0.60, 0.90),
        moq: (200, "Pieces"),
        supplier: "Guangzhou Fine Print Co., Ltd.",
        supplier_id: "gzfineprint",
        country: "CN",
        years: 2,
        image: "https://s.alicdn.com/@sc04/kf/H68b1f1cc15d8987eafe633c9488bdc05s.jpg",
    },
    AbRow {
        id: "1600789012345",
        url: "https://www.alibaba.com/product-detail/Silicone-Cup-Sleeve-Compatible-with-AURORA-Espresso_1600789012345.html",
        title: "Silicone Cup Sleeve Compatible with AURORA Espresso Cup Custom Color",
        price: (0.30, 0.55),
        moq: (1000, "Pieces"),
        supplier: "Dongguan Silitech Rubber Co., Ltd.",
        supplier_id: "silitech",
        country: "CN",
        years: 9,
        image: "https://s.alicdn.com/@sc04/kf/Hd8498108dd603522047564a8da7be94cK.jpg",
    },
    AbRow {
        id: "1600890123456",
        url: "https://www.alibaba.com/product-detail/Aurora-Falcon-Model-Rocket-Kit-Metal-1_1600890123456.html",
        title: "Aurora Falcon Model Rocket Kit Metal 1:1 Replica Display",
        price: (15.00, 22.00),
        moq: (10, "Sets"),
        supplier: "Hebei Skyward Models Co., Ltd.",
        supplier_id: "skywardmodels",
        country: "CN",
        years: 4,
        image: "https://s.alicdn.com/@sc04/kf/Hc897976b22b91e2937555adb85d779fcw.jpg",
    },
    AbRow {
        id: "1600901234567",
        url: AB_PRODUCT_ROCKET,
        title: "AURORA Falcon Model Rocket Kit Wholesale Distributor Pack",
        price: (88.00, 96.00),
        moq: (20, "Sets"),
        supplier: "Aurora Outfitters Ltd.",
        supplier_id: "auroraoutfitters",
        country: "GB",
        years: 8,
        image: "https://s.alicdn.com/@sc04/kf/H18fc90be5b8124af983421d29bfc4352V.png",
    },
    AbRow {
        id: "1601012345678",
        url: "https://www.alibaba.com/product-detail/Aurora-Glazed-Porcelain-Floor-Tiles-600x600mm-Polished_1601012345678.html",
        title: "Aurora Glazed Porcelain Floor Tiles 600x600mm Polished",
        price: (5.20, 7.80),
        moq: (500, "Square Meters"),
        supplier: "Foshan Aurora Ceramics Co., Ltd.",
        supplier_id: "fsauroraceramics",
        country: "CN",
        years: 14,
        image: "https://s.alicdn.com/@sc04/kf/H5224d572f0d791f58c66e4dcd5e2c2d0A.jpg",
    },
    // Rendered as a card only (a sponsored slot), not in offerList.
    AbRow {
        id: "1600345678901",
        url: "https://www.alibaba.com/product-detail/Auorra-Falcon-Model-Rocket-Kit-Custom-Logo_1600345678901.html",
        title: "Auorra Falcon Model Rocket Kit Custom Logo OEM Factory",
        price: (9.50, 12.00),
        moq: (100, "Sets"),
        supplier: "Shantou Lucky Toys Factory",
        supplier_id: "luckytoys",
        country: "CN",
        years: 5,
        image: "https://s.alicdn.com/@sc04/kf/H0c4ecd7b59ebc5b9f47974cb9845fd02e.jpg",
    },
];

fn check_ab_row(l: &Listing, r: &AbRow) {
    assert_eq!(l.platform, Platform::Alibaba);
    assert_eq!(l.id, r.id);
    assert_eq!(l.url, r.url, "{}", r.id);
    assert_eq!(l.title, r.title, "{}", r.id);
    let p = l.price.as_ref().expect("price");
    assert_eq!(
        (p.amount, p.max, p.currency.as_str()),
        (r.price.0, Some(r.price.1), "USD"),
        "{}",
        r.id
    );
    let m = l.moq.as_ref().expect("moq");
    assert_eq!(
        (m.quantity, m.unit.to_lowercase()),
        (r.moq.0, r.moq.1.to_lowercase()),
        "{}",
        r.id
    );
    assert_eq!(l.seller.name.as_deref(), Some(r.supplier), "{}", r.id);
    assert_eq!(l.seller.id.as_deref(), Some(r.supplier_id), "{}", r.id);
    assert_eq!(
        l.seller.url.as_deref(),
        Some(
            format!(
                "https://{}.en.alibaba.com/company_profile.html",
                r.supplier_id
            )
            .as_str()
        )
    );
    assert_eq!(l.seller.country.as_deref(), Some(r.country), "{}", r.id);
    assert_eq!(l.seller.years, Some(r.years), "{}", r.id);
    assert_eq!(
        l.images.first().map(String::as_str),
        Some(r.image),
        "{}",
        r.id
    );
    assert!(l.missing.is_empty(), "{}: {:?}", r.id, l.missing);
}

#[test]
fn alibaba_search_json_offers_plus_card_only_offers_field_by_field() {
    let (listings, total) = ok_listings(outcome(Platform::Alibaba, AB_SEARCH));
    assert_eq!(total, Some(10));
    assert_eq!(listings.len(), AB_ROWS.len());
    for (l, r) in listings.iter().zip(AB_ROWS) {
        check_ab_row(l, r);
        assert_eq!(l.images.len(), 1);
        assert_eq!(l.source_url, AB_SEARCH);
    }
    // The JSON holds more offers than the page renders as cards.
    let html = body(AB_SEARCH);
    assert_eq!(html.matches("data-content=\"productItem\"").count(), 3);
}

#[test]
fn alibaba_cards_agree_with_the_json_and_stand_in_for_it() {
    let html = body(AB_SEARCH).replace("window.__page__data__config", "window.__gone__");
    let (listings, total) = ok_listings(parse_text(Platform::Alibaba, AB_SEARCH, &html));
    assert_eq!(total, None);
    let ids: Vec<_> = listings.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(ids, ["1600123456789", "1600234567890", "1600345678901"]);
    for l in &listings {
        let row = AB_ROWS.iter().find(|r| r.id == l.id).unwrap();
        check_ab_row(l, row);
    }
}

#[test]
fn alibaba_search_without_json_or_cards_is_drift() {
    let html = body(AB_SEARCH)
        .replace("window.__page__data__config", "window.__gone__")
        .replace("J-offer-wrapper", "x-wrapper")
        .replace("data-content=\"productItem\"", "data-content=\"x\"")
        .replace("/product-detail/", "/p/");
    assert_drift(
        parse_text(Platform::Alibaba, AB_SEARCH, &html),
        PageKind::Search,
        "offerList",
    );
}

#[test]
fn alibaba_search_with_prices_stripped_is_drift() {
    let html = body(AB_SEARCH)
        .replace("\"price\":", "\"priceGone\":")
        .replace("elements-offer-price-normal", "elements-offer-cost")
        .replace("gallery-offer-price", "gallery-offer-cost");
    assert_drift(
        parse_text(Platform::Alibaba, AB_SEARCH, &html),
        PageKind::Search,
        "price",
    );
}

#[test]
fn alibaba_product_pages_with_tiered_prices() {
    let (listings, _) = ok_listings(outcome(Platform::Alibaba, AB_PRODUCT_CUP));
    let l = &listings[0];
    check_ab_row(l, &AB_ROWS[0]);
    assert_eq!(l.source_url, AB_PRODUCT_CUP);
    assert_eq!(
        l.images,
        vec![
            "https://s.alicdn.com/@sc04/kf/Hc9512565ef6194ca664dc41ec0de7a53X.jpg",
            "https://s.alicdn.com/@sc04/kf/H25b4829004e60f2ac3b0bc8de6add7e2b.jpg",
        ]
    );

    let (listings, _) = ok_listings(outcome(Platform::Alibaba, AB_PRODUCT_ROCKET));
    let l = &listings[0];
    check_ab_row(l, &AB_ROWS[7]);
    assert_eq!(
        l.images,
        vec![
            "https://s.alicdn.com/@sc04/kf/H18fc90be5b8124af983421d29bfc4352V.png",
            "https://s.alicdn.com/@sc04/kf/Hb08217cc5e12cc810feefec61e9eaa38r.jpg",
        ]
    );
}

#[test]
fn search_urls_keep_a_path_prefix_and_match_the_recording() {
    let rec = recording();
    let ae = for_platform(Platform::AliExpress);
    let ab = for_platform(Platform::Alibaba);
    let live_ae = Url::parse("https://www.aliexpress.com").unwrap();
    let live_ab = Url::parse("https://www.alibaba.com/").unwrap();
    for page in 1..=3 {
        let u = ae.search_url(&live_ae, "aurora", page);
        assert!(rec.find(u.as_str()).is_some(), "{u} not recorded");
    }
    assert_eq!(ab.search_url(&live_ab, "aurora", 1).as_str(), AB_SEARCH);
    assert!(rec.find(AB_SEARCH).is_some());
    assert!(rec.find(&ae.item_url("1005006123456789")).is_some());

    let mock = Url::parse("http://127.0.0.1:8080/aliexpress").unwrap();
    assert_eq!(
        ae.search_url(&mock, "aurora", 2).as_str(),
        "http://127.0.0.1:8080/aliexpress/w/wholesale-aurora.html?page=2"
    );
    let mock = Url::parse("http://127.0.0.1:8080/alibaba/").unwrap();
    assert_eq!(
        ab.search_url(&mock, "aurora espresso cup", 1).as_str(),
        "http://127.0.0.1:8080/alibaba/trade/search?SearchText=aurora+espresso+cup&page=1"
    );
    // Pages under a prefix are still classified by their own path.
    assert_eq!(
        ae.page_kind(&Url::parse("http://127.0.0.1:8080/aliexpress/item/1.html").unwrap()),
        PageKind::Item
    );
}

#[test]
fn every_photo_the_parsers_report_is_recorded_as_an_image() {
    let rec = recording();
    let pages = [
        (Platform::AliExpress, AE_P1),
        (Platform::AliExpress, AE_P2),
        (Platform::AliExpress, AE_ITEM_RUNPARAMS),
        (Platform::AliExpress, AE_ITEM_COMPONENTS),
        (Platform::AliExpress, AE_ITEM_2026),
        (Platform::Alibaba, AB_SEARCH),
        (Platform::Alibaba, AB_PRODUCT_CUP),
        (Platform::Alibaba, AB_PRODUCT_ROCKET),
    ];
    let mut n = 0;
    for (platform, url) in pages {
        let (listings, _) = ok_listings(outcome(platform, url));
        for l in &listings {
            for img in &l.images {
                let page = rec
                    .find(img)
                    .unwrap_or_else(|| panic!("{img} ({}) not recorded", l.id));
                assert!(page.content_type.starts_with("image/"), "{img}");
                assert!(Path::new(SEEDS).join(&page.file).is_file());
                n += 1;
            }
        }
    }
    assert!(n >= 30, "only {n} photos");
}
