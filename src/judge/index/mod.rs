//! The tantivy index of listing text, across every scan of a data folder.
//!
//! Listing titles and sellers are indexed with one analyzer, `knockoff`
//! ([`KnockoffTokenizer`]): text is folded like the mark matcher folds it
//! (NFKC, lowercase, diacritics off, confusables mapped), Latin and digit
//! runs become words, and Chinese runs become overlapping character
//! bigrams. Bigrams were chosen over a dictionary segmenter because brand
//! aliases such as 奥罗拉 are out-of-vocabulary names that a dictionary
//! splits unpredictably, while bigrams find any alias of two or more
//! characters inside an unsegmented title, and need no dictionary download.
//!
//! The scan matches marks per listing (see [`crate::judge::brand`], which explains
//! every hit); the index serves the questions asked across history:
//! `knockoff search` (free text, with fuzzy terms), and
//! [`ListingIndex::mark_variants`], which walks the term dictionary to list
//! every spelling of a mark the index has seen, exact or within the edit
//! distance allowed for its length.

use crate::judge::brand::{fold_text, is_cjk, max_edits};
use crate::model::error::{Error, Result};
use crate::model::listing::Listing;
use serde::Serialize;
use std::path::{Path, PathBuf};
use tantivy::collector::TopDocs;
use tantivy::query::{FuzzyTermQuery, QueryParser};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, STORED, STRING,
};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use tantivy::{doc, Index, IndexWriter, TantivyDocument, Term};

/// Name the analyzer is registered under.
pub const TOKENIZER_NAME: &str = "knockoff";
/// Memory budget of the index writer, on one indexing thread: tantivy's
/// minimum. A cycle upserts a few thousand listings; the default two
/// threads at 25 MB each held ~6 MiB more at the daemon's peak
/// (100k listings: 159-160 -> 154-156 MiB, BENCHMARKS.md "Stop 32").
pub const WRITER_HEAP_BYTES: usize = 15_000_000;

/// Folding tokenizer: Latin words and CJK bigrams.
#[derive(Clone, Default)]
pub struct KnockoffTokenizer;

/// The tokens of one text, precomputed.
pub struct KnockoffTokenStream {
    tokens: Vec<Token>,
    next: usize,
}

impl TokenStream for KnockoffTokenStream {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }
    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

impl Tokenizer for KnockoffTokenizer {
    type TokenStream<'a> = KnockoffTokenStream;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> KnockoffTokenStream {
        let tokens = tokenize(text)
            .into_iter()
            .enumerate()
            .map(|(position, text)| Token {
                offset_from: 0,
                offset_to: 0,
                position,
                text,
                position_length: 1,
            })
            .collect();
        KnockoffTokenStream { tokens, next: 0 }
    }
}

/// The terms a text is indexed under.
pub fn tokenize(text: &str) -> Vec<String> {
    let folded = fold_text(text);
    let mut out = Vec::new();
    let mut word = String::new();
    let mut cjk: Vec<char> = Vec::new();
    let flush_cjk = |cjk: &mut Vec<char>, out: &mut Vec<String>| {
        if cjk.len() == 1 {
            out.push(cjk[0].to_string());
        }
        for pair in cjk.windows(2) {
            out.push(pair.iter().collect());
        }
        cjk.clear();
    };
    for c in folded.chars() {
        if is_cjk(c) {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            cjk.push(c);
        } else if c.is_alphanumeric() {
            flush_cjk(&mut cjk, &mut out);
            word.push(c);
        } else {
            flush_cjk(&mut cjk, &mut out);
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
        }
    }
    flush_cjk(&mut cjk, &mut out);
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct SearchHit {
    pub key: String,
    pub platform: String,
    pub title: String,
    pub seller: String,
    pub score: f32,
}

/// A spelling of a mark found in the term dictionary.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct TermVariant {
    pub term: String,
    pub edits: u32,
    /// Listings containing it.
    pub listings: u64,
}

/// The listing index in `DATA/index`.
pub struct ListingIndex {
    path: PathBuf,
    index: Index,
    key: Field,
    platform: Field,
    title: Field,
    seller: Field,
}

impl ListingIndex {
    /// Opens or creates the index at `DATA/index`.
    pub fn open(data_dir: &Path) -> Result<ListingIndex> {
        let path = data_dir.join("index");
        std::fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        let err = |e: tantivy::TantivyError| Error::Index {
            path: path.clone(),
            message: e.to_string(),
        };
        let text = TextOptions::default()
            .set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(TOKENIZER_NAME)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            )
            .set_stored();
        let mut builder = Schema::builder();
        builder.add_text_field("key", STRING | STORED);
        builder.add_text_field("platform", STRING | STORED);
        builder.add_text_field("title", text.clone());
        builder.add_text_field("seller", text);
        let schema = builder.build();
        let dir = tantivy::directory::MmapDirectory::open(&path).map_err(|e| Error::Index {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let index = Index::open_or_create(dir, schema).map_err(err)?;
        index
            .tokenizers()
            .register(TOKENIZER_NAME, KnockoffTokenizer);
        let schema = index.schema();
        let field = |name: &str| {
            schema.get_field(name).map_err(|e| Error::Index {
                path: path.clone(),
                message: format!("index schema lacks field {name}: {e}"),
            })
        };
        Ok(ListingIndex {
            key: field("key")?,
            platform: field("platform")?,
            title: field("title")?,
            seller: field("seller")?,
            path: path.clone(),
            index,
        })
    }

    fn err(&self, e: impl std::fmt::Display) -> Error {
        Error::Index {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    /// Adds or replaces listings (by `platform/id`) and commits.
    pub fn upsert(&self, listings: &[Listing]) -> Result<()> {
        let mut writer: IndexWriter = self
            .index
            .writer_with_num_threads(1, WRITER_HEAP_BYTES)
            .map_err(|e| self.err(e))?;
        // A writer killed mid-commit (`kill -9`) can leave a delete file the
        // last commit does not name; the same commit run again would write
        // it again (`FileAlreadyExists`) every time. Unused files go first.
        writer
            .garbage_collect_files()
            .wait()
            .map_err(|e| self.err(e))?;
        for l in listings {
            let key = l.key();
            writer.delete_term(Term::from_field_text(self.key, &key));
            writer
                .add_document(doc!(
                    self.key => key,
                    self.platform => l.platform.as_str(),
                    self.title => l.title.clone(),
                    self.seller => l.seller.name.clone().unwrap_or_default(),
                ))
                .map_err(|e| self.err(e))?;
        }
        writer.commit().map_err(|e| self.err(e))?;
        writer.wait_merging_threads().map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Number of listings indexed.
    pub fn len(&self) -> Result<u64> {
        let reader = self.index.reader().map_err(|e| self.err(e))?;
        Ok(reader.searcher().num_docs())
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Free-text search over titles and sellers; Latin terms match within
    /// one edit.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>> {
        let reader = self.index.reader().map_err(|e| self.err(e))?;
        let searcher = reader.searcher();
        let mut parser = QueryParser::for_index(&self.index, vec![self.title, self.seller]);
        parser.set_field_fuzzy(self.title, false, 1, true);
        let (q, _errors) = parser.parse_query_lenient(query);
        let top = searcher
            .search(&q, &TopDocs::with_limit(limit.max(1)).order_by_score())
            .map_err(|e| self.err(e))?;
        let mut hits = Vec::new();
        for (score, addr) in top {
            let d: TantivyDocument = searcher.doc(addr).map_err(|e| self.err(e))?;
            let get = |f: Field| {
                d.get_first(f)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            hits.push(SearchHit {
                key: get(self.key),
                platform: get(self.platform),
                title: get(self.title),
                seller: get(self.seller),
                score,
            });
        }
        Ok(hits)
    }

    /// Every spelling of `mark` in the title term dictionary: exact, or
    /// within the edit distance allowed for the mark's length (optimal
    /// string alignment: an adjacent transposition is one edit). Chinese
    /// marks are looked up by their bigrams.
    ///
    /// The dictionary is not scanned: Latin marks walk it with a
    /// Levenshtein automaton (tantivy's FST), Chinese marks look up each
    /// bigram, so the cost follows the terms near the mark, not the
    /// number of terms ever indexed.
    pub fn mark_variants(&self, mark: &str) -> Result<Vec<TermVariant>> {
        let reader = self.index.reader().map_err(|e| self.err(e))?;
        let searcher = reader.searcher();
        let wanted = tokenize(mark);
        let compact: String = wanted.concat();
        let cjk = compact.chars().any(is_cjk);
        let mut found: std::collections::BTreeMap<String, TermVariant> = Default::default();
        let mut add = |term: &str, edits: u32, doc_freq: u32| {
            let entry = found.entry(term.to_string()).or_insert(TermVariant {
                term: term.to_string(),
                edits,
                listings: 0,
            });
            entry.listings += u64::from(doc_freq);
        };
        for segment in searcher.segment_readers() {
            let inverted = segment
                .inverted_index(self.title)
                .map_err(|e| self.err(e))?;
            let terms = inverted.terms();
            if cjk {
                let unique: std::collections::BTreeSet<&String> = wanted.iter().collect();
                for w in unique {
                    if let Some(info) = terms.get(w.as_bytes()).map_err(|e| self.err(e))? {
                        add(w, 0, info.doc_freq);
                    }
                }
                continue;
            }
            let allowed = max_edits(compact.chars().count());
            // The automaton counts a transposition as one edit, so it
            // accepts every term within `allowed` edits by optimal string
            // alignment (and, past one edit, a few more that only an
            // unrestricted transposition reaches); each candidate's edits
            // are counted again so the answer is the alignment's exactly.
            let automaton = FuzzyTermQuery::new(
                Term::from_field_text(self.title, &compact),
                u8::try_from(allowed).unwrap_or(u8::MAX),
                true,
            )
            .automaton()
            .map_err(|e| self.err(e))?;
            let mut stream = terms
                .search(automaton)
                .into_stream()
                .map_err(|e| self.err(e))?;
            while stream.advance() {
                let Ok(term) = std::str::from_utf8(stream.key()) else {
                    continue;
                };
                let edits = strsim::osa_distance(term, &compact) as u32;
                if edits <= allowed {
                    add(term, edits, stream.value().doc_freq);
                }
            }
        }
        let mut out: Vec<TermVariant> = found.into_values().collect();
        out.sort_by(|a, b| a.edits.cmp(&b.edits).then(b.listings.cmp(&a.listings)));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::listing::{Platform, Seller};

    fn listing(id: &str, title: &str) -> Listing {
        Listing {
            platform: Platform::Taobao,
            id: id.into(),
            url: format!("https://item.taobao.com/item.htm?id={id}"),
            title: title.into(),
            price: None,
            seller: Seller::default(),
            images: vec![],
            moq: None,
            sales: None,
            location: None,
            sponsored: false,
            source_url: String::new(),
            missing: vec![],
        }
    }

    #[test]
    fn tokenizer_folds_and_makes_bigrams() {
        assert_eq!(
            tokenize("ＡＵＲＯＲＡ 奥罗拉咖啡杯"),
            vec!["aurora", "奥罗", "罗拉", "拉咖", "咖啡", "啡杯"]
        );
        assert_eq!(tokenize("Aur0ra-cup 杯"), vec!["aur0ra", "cup", "杯"]);
    }

    #[test]
    fn chinese_alias_is_found_inside_an_unsegmented_title() {
        let dir = tempfile::tempdir().unwrap();
        let idx = ListingIndex::open(dir.path()).unwrap();
        idx.upsert(&[
            listing("1", "新款奥罗拉咖啡杯高仿"),
            listing("2", "极光投影灯"),
        ])
        .unwrap();
        let hits = idx.search("\"奥罗拉\"", 10).unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].key, "taobao/1");
    }

    #[test]
    fn upsert_replaces_and_variants_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let idx = ListingIndex::open(dir.path()).unwrap();
        idx.upsert(&[
            listing("1", "Auorra espresso cup"),
            listing("2", "AURORA cup"),
        ])
        .unwrap();
        idx.upsert(&[listing("2", "Aurora cup")]).unwrap();
        assert_eq!(idx.len().unwrap(), 2);
        let v = idx.mark_variants("AURORA").unwrap();
        let terms: Vec<(&str, u32)> = v.iter().map(|t| (t.term.as_str(), t.edits)).collect();
        assert_eq!(terms, vec![("aurora", 0), ("auorra", 1)]);
        // Reopening keeps what was committed.
        drop(idx);
        let idx = ListingIndex::open(dir.path()).unwrap();
        assert_eq!(idx.len().unwrap(), 2);
        let hits = idx.search("auorra", 10).unwrap();
        assert_eq!(hits.len(), 2, "fuzzy search finds both spellings");
    }

    /// The scan `mark_variants` did before the automaton: every title term
    /// of every segment against the mark. Kept as the oracle.
    fn variants_by_scan(idx: &ListingIndex, mark: &str) -> Vec<TermVariant> {
        let searcher = idx.index.reader().unwrap().searcher();
        let wanted = tokenize(mark);
        let compact: String = wanted.concat();
        let cjk = compact.chars().any(is_cjk);
        let allowed = if cjk {
            0
        } else {
            max_edits(compact.chars().count())
        };
        let mut found: std::collections::BTreeMap<String, TermVariant> = Default::default();
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(idx.title).unwrap();
            let mut stream = inverted.terms().stream().unwrap();
            while stream.advance() {
                let Ok(term) = std::str::from_utf8(stream.key()) else {
                    continue;
                };
                let edits = if cjk {
                    if wanted.iter().any(|w| w == term) {
                        0
                    } else {
                        continue;
                    }
                } else {
                    let d = strsim::osa_distance(term, &compact) as u32;
                    if d > allowed {
                        continue;
                    }
                    d
                };
                let entry = found.entry(term.to_string()).or_insert(TermVariant {
                    term: term.to_string(),
                    edits,
                    listings: 0,
                });
                entry.listings += u64::from(stream.value().doc_freq);
            }
        }
        let mut out: Vec<TermVariant> = found.into_values().collect();
        out.sort_by(|a, b| a.edits.cmp(&b.edits).then(b.listings.cmp(&a.listings)));
        out
    }

    /// Spellings within two edits of `word`: one and two deletions,
    /// insertions, substitutions (with letters of several scripts) and
    /// adjacent transpositions, chosen by a fixed pseudo-random sequence.
    fn misspellings(word: &str, seed: &mut u64, out: &mut Vec<String>) {
        const LETTERS: &[char] = &['a', 'e', 'o', 'r', 'x', 'ж', 'ø', 'ł', 'ß', 'ğ', 'z'];
        let mut next = |n: usize| {
            *seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((*seed >> 33) as usize) % n.max(1)
        };
        let edit = |w: &[char], next: &mut dyn FnMut(usize) -> usize| -> Vec<char> {
            let mut w = w.to_vec();
            let at = next(w.len() + 1);
            match next(4) {
                0 if !w.is_empty() => {
                    w.remove(at.min(w.len() - 1));
                }
                1 => w.insert(at, LETTERS[next(LETTERS.len())]),
                2 if at + 1 < w.len() => w.swap(at, at + 1),
                _ if !w.is_empty() => {
                    let i = at.min(w.len() - 1);
                    w[i] = LETTERS[next(LETTERS.len())];
                }
                _ => {}
            }
            w
        };
        let chars: Vec<char> = word.chars().collect();
        for _ in 0..12 {
            let once = edit(&chars, &mut next);
            out.push(once.iter().collect());
            let twice = edit(&once, &mut next);
            out.push(twice.iter().collect());
            out.push(edit(&twice, &mut next).iter().collect());
        }
    }

    #[test]
    fn automaton_finds_what_the_term_scan_found() {
        let marks = [
            "AURORA",
            "auorra",
            "Lumenar",
            "borealis",
            "nightingale",
            "abcdefca",
            "Żubrówka",
            "straße",
            "ox",
            "cup",
            "",
            "奥罗拉",
            "Aurora 奥罗拉",
            "极光",
        ];
        // A fixed pseudo-random vocabulary of filler words and misspellings
        // of every mark, plus the pairs where optimal string alignment and
        // unrestricted Damerau-Levenshtein disagree ("ca" → "abc").
        let mut seed = 7u64;
        let mut words: Vec<String> = Vec::new();
        for m in &marks {
            words.push(m.to_string());
            for t in tokenize(m) {
                misspellings(&t, &mut seed, &mut words);
            }
        }
        words.extend(
            [
                "abcdefabc",
                "abcdeacb",
                "bcdefacb",
                "nightingael",
                "nihgtignale",
            ]
            .map(String::from),
        );
        for i in 0..3000u64 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(i);
            words.push(format!("w{:x}", seed >> 40));
        }
        words.extend(["新款奥罗拉咖啡杯", "极光投影灯", "奥罗", "罗拉灯"].map(String::from));
        let dir = tempfile::tempdir().unwrap();
        let idx = ListingIndex::open(dir.path()).unwrap();
        // Several upserts: several segments, and one listing replaced.
        for (n, chunk) in words.chunks(400).enumerate() {
            let listings: Vec<Listing> = chunk
                .chunks(3)
                .enumerate()
                .map(|(i, w)| listing(&format!("{n}-{i}"), &w.join(" ")))
                .collect();
            idx.upsert(&listings).unwrap();
        }
        idx.upsert(&[listing("0-0", "Aurora auorra")]).unwrap();
        let searcher = idx.index.reader().unwrap().searcher();
        assert!(searcher.segment_readers().len() > 1, "several segments");
        let mut non_ascii = 0;
        let mut fuzzy = 0;
        for mark in marks {
            let want = variants_by_scan(&idx, mark);
            let got = idx.mark_variants(mark).unwrap();
            assert_eq!(got, want, "variants of {mark:?}");
            non_ascii += got.iter().filter(|v| !v.term.is_ascii()).count();
            fuzzy += got.iter().filter(|v| v.edits > 0).count();
        }
        assert!(non_ascii > 5, "non-ASCII variants compared: {non_ascii}");
        assert!(fuzzy > 30, "variants with edits compared: {fuzzy}");
    }
}
