//! Brand-mark matching that sees through the ways counterfeiters disguise
//! a mark, and says which disguise it saw.
//!
//! A title is folded once into tokens that remember where they came from
//! in the original text: NFKC (full-width `Ｎｉｋｅ` → `Nike`), lowercase,
//! diacritics dropped, and Unicode confusables mapped to the Latin letter
//! they imitate (Cyrillic `а` → `a`). Each mark is then compared against
//! runs of one or more tokens, trying in order:
//!
//! | rule | example for AURORA |
//! |---|---|
//! | exact | `Aurora`, `AURORA` |
//! | width | `ＡＵＲＯＲＡ` |
//! | confusable | `Аurоrа` (Cyrillic а, о), `Aurօrɑ` (Armenian օ, Latin alpha ɑ), `ᎪURORA` (Cherokee): the hand table, then Unicode TR39 skeletons |
//! | spaced | `A U R O R A`, `Au-rora` |
//! | leetspeak | `Aur0ra`, `@urora` (0→o, 1→i/l, 3→e, 4/@→a, 5/$→s, 7→t) |
//! | multi_letter | `Nirnbus` for NIMBUS (rn→m, vv→w, cl→d) |
//! | fuzzy | `Auorra`, `Aurorra` (edit distance scaled to the mark's length) |
//!
//! Chinese marks and aliases are matched as substrings of the folded text
//! (Chinese titles are not space-separated), also with spaces or
//! punctuation between the characters.
//!
//! The matcher is a pure function of the text, so the scan runs it on every
//! listing and the tests can enumerate every rule with positive and
//! negative cases.

use serde::Serialize;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// How a mark was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchRule {
    Exact,
    Width,
    Confusable,
    Spaced,
    Leetspeak,
    MultiLetter,
    Fuzzy,
}

impl MatchRule {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchRule::Exact => "exact",
            MatchRule::Width => "full-width letters",
            MatchRule::Confusable => "look-alike letters",
            MatchRule::Spaced => "spaced out",
            MatchRule::Leetspeak => "leetspeak",
            MatchRule::MultiLetter => "multi-letter look-alike",
            MatchRule::Fuzzy => "fuzzy",
        }
    }
}

/// One mark found in a text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MarkHit {
    /// The registered mark the hit belongs to ("AURORA").
    pub mark: String,
    /// The mark or alias that matched ("AURORA" or "奥罗拉").
    pub term: String,
    /// The text as written in the listing ("Auorra").
    pub variant: String,
    pub rule: MatchRule,
    /// Edit distance for fuzzy hits (0 otherwise).
    pub edits: u32,
    /// Byte range of the variant in the original text.
    pub start: usize,
    pub end: usize,
}

impl MarkHit {
    /// One line for a reason list: `title matches mark "AURORA" (fuzzy, 1 edit: "Auorra")`.
    pub fn describe(&self) -> String {
        let via = if self.term.eq_ignore_ascii_case(&self.mark) {
            String::new()
        } else {
            format!(" via alias \"{}\"", self.term)
        };
        match self.rule {
            MatchRule::Exact => format!(
                "title matches mark \"{}\"{via} (exact: \"{}\")",
                self.mark, self.variant
            ),
            MatchRule::Fuzzy => format!(
                "title matches mark \"{}\"{via} (fuzzy, {} edit{}: \"{}\")",
                self.mark,
                self.edits,
                if self.edits == 1 { "" } else { "s" },
                self.variant
            ),
            rule => format!(
                "title matches mark \"{}\"{via} ({}: \"{}\")",
                self.mark,
                rule.as_str(),
                self.variant
            ),
        }
    }
}

/// A mark to look for, prepared for matching.
#[derive(Debug, Clone)]
struct Term {
    mark: String,
    term: String,
    /// Folded, separators removed.
    compact: String,
    /// Number of words in the term as registered ("Air Max" = 2).
    words: usize,
    cjk: bool,
}

/// Finds marks and their aliases in text.
#[derive(Debug, Clone, Default)]
pub struct MarkMatcher {
    terms: Vec<Term>,
}

impl MarkMatcher {
    /// Builds a matcher from (mark, aliases) pairs.
    pub fn new<'a>(marks: impl IntoIterator<Item = (&'a str, &'a [String])>) -> MarkMatcher {
        let mut terms = Vec::new();
        for (mark, aliases) in marks {
            for term in std::iter::once(mark).chain(aliases.iter().map(String::as_str)) {
                let folded = fold(term);
                let compact: String = folded
                    .iter()
                    .filter(|c| c.ch.is_alphanumeric())
                    .map(|c| c.ch)
                    .collect();
                if compact.is_empty() {
                    continue;
                }
                let words = count_words(&folded);
                terms.push(Term {
                    mark: mark.to_string(),
                    term: term.to_string(),
                    cjk: compact.chars().any(is_cjk),
                    compact,
                    words,
                });
            }
        }
        MarkMatcher { terms }
    }

    /// Every mark found in `text`, the best hit per mark term.
    pub fn find(&self, text: &str) -> Vec<MarkHit> {
        let folded = fold(text);
        let tokens = tokenize(&folded);
        let mut hits: Vec<MarkHit> = Vec::new();
        for term in &self.terms {
            let hit = if term.cjk {
                find_cjk(term, text, &folded)
            } else {
                find_latin(term, text, &folded, &tokens)
            };
            if let Some(hit) = hit {
                // Keep one hit per registered mark: the strongest.
                match hits.iter_mut().find(|h| h.mark == hit.mark) {
                    Some(existing) if (hit.rule, hit.edits) < (existing.rule, existing.edits) => {
                        *existing = hit
                    }
                    Some(_) => {}
                    None => hits.push(hit),
                }
            }
        }
        hits
    }
}

/// A folded character and where it came from.
#[derive(Debug, Clone, Copy)]
struct FChar {
    ch: char,
    start: usize,
    end: usize,
    width: bool,
    confusable: bool,
}

/// Folds text: NFKC, lowercase, diacritics dropped, confusables mapped.
fn fold(text: &str) -> Vec<FChar> {
    let mut out = Vec::with_capacity(text.len());
    for (start, orig) in text.char_indices() {
        let end = start + orig.len_utf8();
        let width = ('\u{FF01}'..='\u{FF5E}').contains(&orig) || orig == '\u{3000}';
        for c in std::iter::once(orig)
            .nfkc()
            .flat_map(char::to_lowercase)
            .nfd()
        {
            if is_combining_mark(c) {
                if let Some(last) = out.last_mut() {
                    let last: &mut FChar = last;
                    last.confusable = true;
                }
                continue;
            }
            let (ch, confusable) = match confusable(c) {
                Some(latin) => (latin, true),
                None => (c, false),
            };
            out.push(FChar {
                ch,
                start,
                end,
                width,
                confusable,
            });
        }
    }
    out
}

/// The Latin letter (or digit) a look-alike of another script imitates,
/// lowercase: the hand table below first (Cyrillic and Greek, checked by
/// the variant table), then the Unicode TR39 skeleton (`unicode-security`)
/// for every other script (Armenian `օ`, Latin alpha `ɑ`, Cherokee `Ꭺ`...).
/// ASCII is never remapped (TR39 maps `m` to `rn`) and neither is CJK.
fn confusable(c: char) -> Option<char> {
    if c.is_ascii() || is_cjk(c) {
        return None;
    }
    // Text is lowercased before this, and some scripts' lowercase letters
    // (Cherokee's) have no TR39 prototype while their capitals do.
    let upper = {
        let mut u = c.to_uppercase();
        match (u.next(), u.next()) {
            (Some(u), None) if u != c => Some(u),
            _ => None,
        }
    };
    confusable_table(c).or_else(|| {
        [Some(c), upper].into_iter().flatten().find_map(|c| {
            let mut buf = [0; 4];
            let mut skeleton =
                unicode_security::confusable_detection::skeleton(c.encode_utf8(&mut buf))
                    .flat_map(char::to_lowercase);
            match (skeleton.next(), skeleton.next()) {
                (Some(latin), None) if latin.is_ascii_alphanumeric() => Some(latin),
                _ => None,
            }
        })
    })
}

/// The hand-picked Cyrillic and Greek look-alikes.
fn confusable_table(c: char) -> Option<char> {
    Some(match c {
        'а' => 'a',
        'в' => 'b',
        'е' | 'ё' => 'e',
        'к' => 'k',
        'м' => 'm',
        'н' => 'h',
        'о' => 'o',
        'р' => 'p',
        'с' => 'c',
        'т' => 't',
        'у' => 'y',
        'х' => 'x',
        'і' | 'ї' => 'i',
        'ј' => 'j',
        'ѕ' => 's',
        'ԁ' => 'd',
        'ԛ' => 'q',
        'ԝ' => 'w',
        'ɡ' => 'g',
        'α' => 'a',
        'β' => 'b',
        'ε' => 'e',
        'η' => 'n',
        'ι' => 'i',
        'κ' => 'k',
        'ν' => 'v',
        'ο' => 'o',
        'ρ' => 'p',
        'τ' => 't',
        'υ' => 'u',
        'χ' => 'x',
        'ω' => 'w',
        'ı' => 'i',
        _ => return None,
    })
}

/// True for CJK ideographs and kana.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF)
}

/// Characters that may stand for letters in leetspeak.
fn is_leet_symbol(c: char) -> bool {
    matches!(c, '@' | '$')
}

/// A run of word characters in folded text (letters, digits, `@`, `$`;
/// CJK characters are left out: Chinese is matched by substring).
#[derive(Debug, Clone)]
struct Token {
    /// Indices into the folded chars.
    from: usize,
    to: usize,
    text: String,
}

fn tokenize(chars: &[FChar]) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let word = |c: char| (c.is_alphanumeric() && !is_cjk(c)) || is_leet_symbol(c);
        if word(chars[i].ch) {
            let from = i;
            while i < chars.len() && word(chars[i].ch) {
                i += 1;
            }
            tokens.push(Token {
                from,
                to: i,
                text: chars[from..i].iter().map(|c| c.ch).collect(),
            });
        } else {
            i += 1;
        }
    }
    tokens
}

fn count_words(chars: &[FChar]) -> usize {
    tokenize(chars).len().max(1)
}

/// Maximum edits allowed for a fuzzy match of a mark of `len` characters:
/// short marks must match exactly (one edit turns "nike" into "nice").
pub fn max_edits(len: usize) -> u32 {
    match len {
        0..=4 => 0,
        5..=7 => 1,
        _ => 2,
    }
}

fn find_latin(term: &Term, text: &str, chars: &[FChar], tokens: &[Token]) -> Option<MarkHit> {
    let target = term.compact.as_str();
    let target_len = target.chars().count();
    let mut best: Option<(MatchRule, u32, usize, usize)> = None;
    for i in 0..tokens.len() {
        let mut concat = String::new();
        for k in 1..=(tokens.len() - i) {
            let tok = &tokens[i + k - 1];
            concat.push_str(&tok.text);
            let concat_len = concat.chars().count();
            if concat_len > target_len + 2 {
                break;
            }
            // Runs of several tokens must be made of short pieces or match the
            // mark's own word count: "Au-rora" and "A U R O R A", not two
            // unrelated words that happen to spell it.
            let from = tokens[i].from;
            let to = tok.to;
            let rule = compare(&concat, target, k, term.words);
            if let Some((mut rule, edits)) = rule {
                if rule == MatchRule::Fuzzy && k > 1 {
                    continue;
                }
                if rule == MatchRule::Exact {
                    let span = &chars[from..to];
                    if span.iter().any(|c| c.width) {
                        rule = MatchRule::Width;
                    } else if span.iter().any(|c| c.confusable) {
                        rule = MatchRule::Confusable;
                    }
                }
                let cand = (rule, edits, from, to);
                if best.is_none_or(|b| (cand.0, cand.1) < (b.0, b.1)) {
                    best = Some(cand);
                }
            }
        }
    }
    let (rule, edits, from, to) = best?;
    let start = chars[from].start;
    let end = chars[to - 1].end;
    Some(MarkHit {
        mark: term.mark.clone(),
        term: term.term.clone(),
        variant: text[start..end].to_string(),
        rule,
        edits,
        start,
        end,
    })
}

/// Compares a run of `k` tokens (concatenated) with a mark of `words` words.
fn compare(concat: &str, target: &str, k: usize, words: usize) -> Option<(MatchRule, u32)> {
    let spacing = if k == words {
        MatchRule::Exact
    } else {
        MatchRule::Spaced
    };
    if concat == target {
        return Some((spacing, 0));
    }
    if concat
        .chars()
        .any(|c| c.is_ascii_digit() || is_leet_symbol(c))
        && leet_equal(concat, target)
    {
        return Some((MatchRule::Leetspeak, 0));
    }
    let multi = multi_letter(concat);
    if multi != concat && (multi == target || leet_equal(&multi, target)) {
        return Some((MatchRule::MultiLetter, 0));
    }
    let allowed = max_edits(target.chars().count());
    if allowed > 0 && !concat.chars().all(|c| c.is_ascii_digit()) {
        let d = strsim::osa_distance(concat, target) as u32;
        if d <= allowed && concat.chars().count() >= 3 {
            return Some((MatchRule::Fuzzy, d));
        }
    }
    None
}

/// Position-wise comparison where leet symbols stand for letters.
fn leet_equal(written: &str, target: &str) -> bool {
    let w: Vec<char> = written.chars().collect();
    let t: Vec<char> = target.chars().collect();
    w.len() == t.len()
        && w.iter().zip(&t).all(|(&a, &b)| {
            a == b
                || match a {
                    '0' => b == 'o',
                    '1' => b == 'i' || b == 'l',
                    '3' => b == 'e',
                    '4' | '@' => b == 'a',
                    '5' | '$' => b == 's',
                    '7' => b == 't',
                    '8' => b == 'b',
                    '9' => b == 'g',
                    _ => false,
                }
        })
}

/// Replaces letter pairs that read as one letter at a glance.
fn multi_letter(s: &str) -> String {
    s.replace("rn", "m").replace("vv", "w").replace("cl", "d")
}

/// Chinese terms: a substring of the folded text, directly or with
/// separators between the characters.
fn find_cjk(term: &Term, text: &str, chars: &[FChar]) -> Option<MarkHit> {
    let target: Vec<char> = term.compact.chars().collect();
    // Indices of the characters that are not separators.
    let kept: Vec<usize> = (0..chars.len())
        .filter(|&i| chars[i].ch.is_alphanumeric())
        .collect();
    let n = target.len();
    if kept.len() < n {
        return None;
    }
    let mut best: Option<(MatchRule, usize, usize)> = None;
    for w in 0..=(kept.len() - n) {
        if (0..n).all(|j| chars[kept[w + j]].ch == target[j]) {
            let from = kept[w];
            let to = kept[w + n - 1];
            let rule = if to - from + 1 == n {
                if chars[from..=to].iter().any(|c| c.width) {
                    MatchRule::Width
                } else {
                    MatchRule::Exact
                }
            } else {
                MatchRule::Spaced
            };
            if best.is_none_or(|b| rule < b.0) {
                best = Some((rule, from, to));
            }
        }
    }
    let (rule, from, to) = best?;
    let start = chars[from].start;
    let end = chars[to].end;
    Some(MarkHit {
        mark: term.mark.clone(),
        term: term.term.clone(),
        variant: text[start..end].to_string(),
        rule,
        edits: 0,
        start,
        end,
    })
}

/// Folds text for phrase search: NFKC, lowercase, diacritics dropped,
/// whitespace collapsed.
pub fn fold_text(text: &str) -> String {
    let s: String = fold(text).iter().map(|c| c.ch).collect();
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The phrases (indicator terms, negative context, product keywords) that
/// occur in `text` as whole words (Chinese phrases as substrings).
pub fn find_phrases<'a>(text: &str, phrases: &'a [String]) -> Vec<&'a str> {
    let hay = fold_text(text);
    phrases
        .iter()
        .filter(|p| contains_phrase(&hay, &fold_text(p)))
        .map(String::as_str)
        .collect()
}

/// Whole-word containment on folded text.
pub fn contains_phrase(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric() || is_cjk(c));
    let mut from = 0;
    while let Some(pos) = hay[from..].find(needle) {
        let s = from + pos;
        let e = s + needle.len();
        let first = needle.chars().next().unwrap_or(' ');
        let last = needle.chars().last().unwrap_or(' ');
        let ok_before =
            is_cjk(first) || !first.is_alphanumeric() || boundary(hay[..s].chars().last());
        let ok_after = is_cjk(last) || !last.is_alphanumeric() || boundary(hay[e..].chars().next());
        if ok_before && ok_after {
            return true;
        }
        from = s + needle.chars().next().map_or(1, char::len_utf8);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(marks: &[(&str, &[&str])]) -> MarkMatcher {
        let owned: Vec<(String, Vec<String>)> = marks
            .iter()
            .map(|(m, a)| (m.to_string(), a.iter().map(|s| s.to_string()).collect()))
            .collect();
        MarkMatcher::new(owned.iter().map(|(m, a)| (m.as_str(), a.as_slice())))
    }

    /// Every disguise with positive and negative cases. `None` means the
    /// text must not match.
    #[test]
    fn variant_table() {
        let m = matcher(&[
            ("AURORA", &["奥罗拉"]),
            ("NIMBUS", &[]),
            ("Air Max", &[]),
            ("Nike", &[]),
        ]);
        type Expected<'a> = Option<(&'a str, MatchRule, &'a str)>;
        let cases: &[(&str, Expected)] = &[
            (
                "AURORA Barista Cup",
                Some(("AURORA", MatchRule::Exact, "AURORA")),
            ),
            ("aurora cup", Some(("AURORA", MatchRule::Exact, "aurora"))),
            (
                "ＡＵＲＯＲＡ杯子",
                Some(("AURORA", MatchRule::Width, "ＡＵＲＯＲＡ")),
            ),
            (
                "Ｎｉｋｅ shoes",
                Some(("Nike", MatchRule::Width, "Ｎｉｋｅ")),
            ),
            (
                "\u{410}ur\u{43e}r\u{430} cup",
                Some(("AURORA", MatchRule::Confusable, "\u{410}ur\u{43e}r\u{430}")),
            ),
            (
                "Aurorá cup",
                Some(("AURORA", MatchRule::Confusable, "Aurorá")),
            ),
            // Scripts the hand table missed, by TR39 skeleton: Armenian
            // օ (U+0585), Latin alpha ɑ (U+0251), Cherokee Ꭺ (U+13AA) and
            // Ꭱ... (U+13A1 looks like R).
            (
                "Aur\u{585}r\u{251} cup",
                Some(("AURORA", MatchRule::Confusable, "Aur\u{585}r\u{251}")),
            ),
            (
                "\u{13AA}URORA cup",
                Some(("AURORA", MatchRule::Confusable, "\u{13AA}URORA")),
            ),
            (
                "N\u{13A5}KE shoes",
                Some(("Nike", MatchRule::Confusable, "N\u{13A5}KE")),
            ),
            // Chinese text is never read as Latin look-alikes.
            ("〇〇杯子", None),
            (
                "A U R O R A cup",
                Some(("AURORA", MatchRule::Spaced, "A U R O R A")),
            ),
            (
                "Au-rora cup",
                Some(("AURORA", MatchRule::Spaced, "Au-rora")),
            ),
            (
                "A.U.R.O.R.A",
                Some(("AURORA", MatchRule::Spaced, "A.U.R.O.R.A")),
            ),
            (
                "Aur0ra cup",
                Some(("AURORA", MatchRule::Leetspeak, "Aur0ra")),
            ),
            (
                "@ur0r@ cup",
                Some(("AURORA", MatchRule::Leetspeak, "@ur0r@")),
            ),
            ("N1ke shoes", Some(("Nike", MatchRule::Leetspeak, "N1ke"))),
            (
                "Nirnbus jacket",
                Some(("NIMBUS", MatchRule::MultiLetter, "Nirnbus")),
            ),
            ("Auorra cup", Some(("AURORA", MatchRule::Fuzzy, "Auorra"))),
            ("Aurorra cup", Some(("AURORA", MatchRule::Fuzzy, "Aurorra"))),
            ("Air Max 90", Some(("Air Max", MatchRule::Exact, "Air Max"))),
            ("AirMax 90", Some(("Air Max", MatchRule::Spaced, "AirMax"))),
            ("奥罗拉咖啡杯", Some(("AURORA", MatchRule::Exact, "奥罗拉"))),
            (
                "奥 罗 拉 咖啡杯",
                Some(("AURORA", MatchRule::Spaced, "奥 罗 拉")),
            ),
            // negatives
            ("Nice shoes", None),
            ("Mike shoes", None),
            ("Amora cup", None),
            ("Aurum ring", None),
            ("奥罗 咖啡杯", None),
            ("air conditioner max power", None),
            ("Corner shelf", None),
            ("12345 678", None),
        ];
        for (text, expected) in cases {
            let hits = m.find(text);
            match expected {
                None => assert!(hits.is_empty(), "{text:?} should not match, got {hits:?}"),
                Some((mark, rule, variant)) => {
                    let hit = hits
                        .iter()
                        .find(|h| h.mark == *mark)
                        .unwrap_or_else(|| panic!("{text:?} should match {mark}, got {hits:?}"));
                    assert_eq!(hit.rule, *rule, "{text:?}: {hit:?}");
                    assert_eq!(hit.variant, *variant, "{text:?}");
                    assert_eq!(&text[hit.start..hit.end], *variant);
                }
            }
        }
    }

    #[test]
    fn fuzzy_reports_edit_count() {
        let m = matcher(&[("AURORA", &[])]);
        let hit = &m.find("New Auorra Espresso Cup")[0];
        assert_eq!(hit.edits, 1);
        assert_eq!(
            hit.describe(),
            "title matches mark \"AURORA\" (fuzzy, 1 edit: \"Auorra\")"
        );
    }

    #[test]
    fn edits_scale_with_length() {
        assert_eq!(max_edits(4), 0);
        assert_eq!(max_edits(6), 1);
        assert_eq!(max_edits(10), 2);
    }

    #[test]
    fn phrases_match_whole_words() {
        let phrases = vec![
            "AAA".to_string(),
            "1:1".to_string(),
            "高仿".to_string(),
            "copy".to_string(),
        ];
        assert_eq!(
            find_phrases("AAA quality 1:1 高仿品", &phrases),
            vec!["AAA", "1:1", "高仿"]
        );
        assert!(find_phrases("AAAA batteries, copyright 2024", &phrases).is_empty());
        assert!(find_phrases("11:15 daily", &phrases).is_empty());
    }

    proptest::proptest! {
        #[test]
        fn matching_never_panics_and_spans_are_valid(text in "\\PC{0,40}") {
            let m = matcher(&[("AURORA", &["奥罗拉"]), ("Air Max", &[])]);
            for hit in m.find(&text) {
                proptest::prop_assert!(text.is_char_boundary(hit.start));
                proptest::prop_assert!(text.is_char_boundary(hit.end));
                proptest::prop_assert_eq!(&text[hit.start..hit.end], hit.variant.as_str());
            }
        }
    }
}
