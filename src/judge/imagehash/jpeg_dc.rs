//! DC-only JPEG decoding: the 1/8-scale grey image of a JPEG, read straight
//! from the luma DC coefficients, for hashing.
//!
//! At 1/8 scale every 8×8 block becomes one pixel, the block's mean, which is
//! its DC coefficient. So nothing needs an inverse DCT, chroma upsampling or
//! colour conversion: the AC coefficients only have to be stepped over in the
//! entropy-coded data, and only the luma values are kept. That is the same
//! work libjpeg-turbo does at 1/8 scale (its `coef_limit`); `jpeg-decoder`
//! decodes and stores every coefficient first, which makes it about half as
//! fast (BENCHMARKS.md).
//!
//! Handles the common files: 8-bit baseline and extended Huffman (SOF0/SOF1)
//! and progressive (SOF2, whose first DC scan is all that is read), grey or
//! YCbCr, any sampling where luma has the largest factors, restart
//! intervals. Anything else (arithmetic coding, lossless, 12-bit, CMYK, RGB
//! JPEGs, damaged data) is reported [`Unsupported`] and the caller falls back
//! to a full decoder, which also gives the user-facing error. This module
//! never panics on any input and allocates nothing before the declared size
//! has been checked against the caller's limits.

use std::rc::Rc;

/// Why the DC-only path declined a file; the caller falls back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub &'static str);

type R<T> = std::result::Result<T, Unsupported>;

/// Size limits checked before anything is allocated.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_side: u32,
    pub max_pixels: u64,
    /// The 1/8-scale image must keep at least this many pixels a side;
    /// smaller photos are declined (a full decoder at a milder scale keeps
    /// enough detail for them).
    pub min_eighth_side: u32,
}

/// The 1/8-scale luma of a JPEG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LumaEighth {
    /// Declared size of the full image.
    pub width: u32,
    pub height: u32,
    /// Size of `pixels`: `ceil(width / 8)` × `ceil(height / 8)`.
    pub eighth_width: usize,
    pub eighth_height: usize,
    pub pixels: Vec<u8>,
}

const LUT_BITS: u32 = 12;

/// A canonical Huffman table with a lookup for short codes.
#[derive(Clone)]
struct Huffman {
    /// For each `LUT_BITS`-bit prefix: `(code length, symbol)`, length 0 when
    /// the code is longer than the lookup.
    lut: Vec<(u8, u8)>,
    /// For AC tables: for each prefix, what stepping over as many whole
    /// coefficients (code plus magnitude bits) as it holds does, or over
    /// the one whose code it holds.
    skip: Vec<Skip>,
    /// `maxcode[l]`: the largest code of length `l` (or -1), for codes longer
    /// than the lookup.
    maxcode: [i32; 18],
    /// `valoffset[l]`: index into `symbols` of code `c` of length `l` is
    /// `c + valoffset[l]`.
    valoffset: [i32; 17],
    symbols: Vec<u8>,
}

impl Huffman {
    fn new(counts: &[u8; 16], symbols: &[u8], ac: bool) -> R<Huffman> {
        let mut lut = vec![(0u8, 0u8); 1 << LUT_BITS];
        let mut maxcode = [-1i32; 18];
        let mut valoffset = [0i32; 17];
        let mut code: u32 = 0;
        let mut k = 0usize;
        for len in 1..=16u32 {
            let n = counts[len as usize - 1] as usize;
            valoffset[len as usize] = k as i32 - code as i32;
            for _ in 0..n {
                let sym = *symbols
                    .get(k)
                    .ok_or(Unsupported("Huffman table shorter than its counts"))?;
                if code >= (1 << len) {
                    return Err(Unsupported("Huffman table with too many codes"));
                }
                if len <= LUT_BITS {
                    let shift = LUT_BITS - len;
                    let first = (code << shift) as usize;
                    for e in &mut lut[first..first + (1 << shift)] {
                        *e = (len as u8, sym);
                    }
                }
                code += 1;
                k += 1;
            }
            if n > 0 {
                maxcode[len as usize] = code as i32 - 1;
            }
            code <<= 1;
        }
        maxcode[17] = i32::MAX; // sentinel: no code is that long
        let skip = if ac {
            (0..1u32 << LUT_BITS).map(|p| skip_entry(&lut, p)).collect()
        } else {
            Vec::new()
        };
        Ok(Huffman {
            lut,
            skip,
            maxcode,
            valoffset,
            symbols: symbols[..k].to_vec(),
        })
    }
}

/// Tables kept per thread by [`Huffman::cached`]: most photos carry the
/// standard tables of their encoder, the same four in file after file.
const CACHED_TABLES: usize = 8;

/// A table's definition as it appears in the file: class, counts, symbols.
type TableKey = (bool, [u8; 16], Vec<u8>);

thread_local! {
    static TABLE_CACHE: std::cell::RefCell<Vec<(TableKey, Rc<Huffman>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

impl Huffman {
    /// [`Huffman::new`], reusing the table built for an identical
    /// definition earlier on this thread. Building an AC table's skip
    /// lookup costs about as much as stepping over 1,300 blocks (7% of
    /// hashing an 800×800 photo), and the definitions rarely change.
    fn cached(counts: &[u8; 16], symbols: &[u8], ac: bool) -> R<Rc<Huffman>> {
        let hit = TABLE_CACHE.with(|c| {
            c.borrow()
                .iter()
                .find(|((a, n, s), _)| *a == ac && n == counts && s == symbols)
                .map(|(_, h)| h.clone())
        });
        if let Some(h) = hit {
            return Ok(h);
        }
        let h = Rc::new(Huffman::new(counts, symbols, ac)?);
        TABLE_CACHE.with(|c| {
            let mut c = c.borrow_mut();
            if c.len() == CACHED_TABLES {
                c.remove(0);
            }
            c.push(((ac, *counts, symbols.to_vec()), h.clone()));
        });
        Ok(h)
    }
}

/// One entry of [`Huffman::skip`].
#[derive(Clone, Copy)]
struct Skip {
    /// How many bits to step over, with [`EOB`] set when the block ends
    /// after them.
    bits: u8,
    /// How far the coefficient index advances, plus one when the block ends
    /// (an end-of-block code needs a coefficient left to stand for), so
    /// that the step is allowed at index `k` when `k + reach <= 64`; 255
    /// when the code is longer than the lookup.
    reach: u8,
}

/// Flag in [`Skip::bits`]: the block ends after these bits.
const EOB: u8 = 0x80;

/// One entry of [`Huffman::skip`] for the `LUT_BITS`-bit prefix `p`.
fn skip_entry(lut: &[(u8, u8)], p: u32) -> Skip {
    let (mut used, mut advance) = (0u32, 0u32);
    loop {
        let window = (p << used) & ((1 << LUT_BITS) - 1);
        let (len, rs) = lut[window as usize];
        let len = len as u32;
        if len == 0 || used + len > LUT_BITS {
            break;
        }
        let (run, size) = ((rs >> 4) as u32, (rs & 15) as u32);
        if size == 0 && run != 15 {
            // End of block: the rest of the block is zeros.
            return Skip {
                bits: (used + len) as u8 | EOB,
                reach: advance as u8 + 1,
            };
        }
        let step = if size == 0 { 16 } else { run + 1 };
        // A coefficient whose magnitude bits run past the prefix is only
        // taken as the first one (its bits are skipped unseen).
        if used > 0 && used + len + size > LUT_BITS {
            break;
        }
        used += len + size;
        advance += step;
        if used >= LUT_BITS || advance >= 63 {
            break;
        }
    }
    if used == 0 {
        return Skip {
            bits: 0,
            reach: 255,
        };
    }
    Skip {
        bits: used as u8,
        reach: advance as u8,
    }
}

/// Reads entropy-coded bits MSB first, removing byte stuffing and stopping
/// at markers (past a marker it supplies zero bits and counts them).
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    buf: u64,
    nbits: u32,
    /// Zero bits supplied past the end of the data; the last ones in `buf`.
    padding: u32,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8], pos: usize) -> Bits<'a> {
        Bits {
            data,
            pos,
            buf: 0,
            nbits: 0,
            padding: 0,
        }
    }

    /// Fills the buffer to more than 56 bits.
    #[inline]
    fn refill(&mut self) {
        // Fast path: eight bytes with no 0xFF among them.
        if let Some(chunk) = self.data.get(self.pos..self.pos + 8) {
            let word = u64::from_be_bytes(chunk.try_into().unwrap_or([0xFF; 8]));
            let inv = !word;
            let has_ff = inv.wrapping_sub(0x0101_0101_0101_0101) & !inv & 0x8080_8080_8080_8080;
            if has_ff == 0 && self.padding == 0 {
                let take = (64 - self.nbits) / 8;
                if take > 0 {
                    let bits = take * 8;
                    let top = if bits == 64 {
                        word
                    } else {
                        word >> (64 - bits)
                    };
                    self.buf |= top << (64 - self.nbits - bits);
                    self.pos += take as usize;
                    self.nbits += bits;
                }
                return;
            }
        }
        while self.nbits <= 56 {
            let byte = match self.data.get(self.pos) {
                Some(0xFF) if self.padding == 0 => match self.data.get(self.pos + 1) {
                    Some(0x00) => {
                        self.pos += 2;
                        Some(0xFF)
                    }
                    // A fill byte before a marker.
                    Some(0xFF) => {
                        self.pos += 1;
                        continue;
                    }
                    _ => None,
                },
                Some(&b) if self.padding == 0 => {
                    self.pos += 1;
                    Some(b)
                }
                _ => None,
            };
            match byte {
                Some(b) => self.buf |= (b as u64) << (56 - self.nbits),
                None => self.padding += 8,
            }
            self.nbits += 8;
        }
    }

    #[inline]
    fn peek(&self, n: u32) -> u32 {
        (self.buf >> (64 - n)) as u32
    }

    #[inline]
    fn consume(&mut self, n: u32) {
        self.buf <<= n;
        self.nbits -= n;
    }

    /// True once more bits were used than the data held.
    fn overran(&self) -> bool {
        self.nbits < self.padding
    }

    /// Decodes one Huffman symbol. Needs at least 16 bits buffered.
    #[inline]
    fn symbol(&mut self, h: &Huffman) -> R<u8> {
        let (len, sym) = h.lut[self.peek(LUT_BITS) as usize];
        if len != 0 {
            self.consume(len as u32);
            return Ok(sym);
        }
        let (len, code) = self.long_code(h)?;
        self.consume(len);
        let idx = code + h.valoffset[len as usize];
        h.symbols
            .get(idx as usize)
            .copied()
            .ok_or(Unsupported("bad Huffman code"))
    }

    fn long_code(&self, h: &Huffman) -> R<(u32, i32)> {
        let mut len = LUT_BITS + 1;
        let mut code = self.peek(len) as i32;
        while code > h.maxcode[len as usize] {
            len += 1;
            if len > 16 {
                return Err(Unsupported("bad Huffman code"));
            }
            code = self.peek(len) as i32;
        }
        Ok((len, code))
    }

    /// Reads `s` bits (s ≤ 16) as a signed coefficient difference.
    #[inline]
    fn receive_extend(&mut self, s: u32) -> i32 {
        if s == 0 {
            return 0;
        }
        let v = self.peek(s) as i32;
        self.consume(s);
        if v < 1 << (s - 1) {
            v - (1 << s) + 1
        } else {
            v
        }
    }

    /// Steps over the AC coefficients of one block.
    #[inline]
    fn skip_ac(&mut self, h: &Huffman) -> R<()> {
        let mut k = 1u32;
        while k < 64 {
            if self.nbits < 32 {
                self.refill();
            }
            let e = h.skip[self.peek(LUT_BITS) as usize];
            // Several coefficients at once only while they all stay inside
            // the block: a block filled to index 63 has no end-of-block
            // code, and the next bits are already the next block's.
            if k + e.reach as u32 <= 64 {
                self.consume((e.bits & !EOB) as u32);
                if e.bits & EOB != 0 {
                    return Ok(());
                }
                k += e.reach as u32;
                continue;
            }
            let rs = self.symbol(h)?;
            let (run, size) = ((rs >> 4) as u32, (rs & 15) as u32);
            if size == 0 {
                if run != 15 {
                    return Ok(());
                }
                k += 16;
            } else {
                self.consume(size);
                k += run + 1;
            }
        }
        if k > 64 {
            return Err(Unsupported("AC coefficients run past the block"));
        }
        Ok(())
    }

    /// Drops the buffered bits and moves past the restart marker that must
    /// come next.
    fn restart(&mut self) -> R<()> {
        self.buf = 0;
        self.nbits = 0;
        self.padding = 0;
        // Garbage before the marker is skipped, as libjpeg does.
        while let Some(&b) = self.data.get(self.pos) {
            if b == 0xFF {
                match self.data.get(self.pos + 1) {
                    Some(0xD0..=0xD7) => {
                        self.pos += 2;
                        return Ok(());
                    }
                    Some(0x00) | Some(0xFF) => self.pos += 1,
                    _ => return Err(Unsupported("missing restart marker")),
                }
            } else {
                self.pos += 1;
            }
        }
        Err(Unsupported("missing restart marker"))
    }
}

#[derive(Clone, Copy)]
struct Component {
    id: u8,
    h: u32,
    v: u32,
    tq: usize,
}

struct ScanComponent {
    /// Index into the frame's components.
    index: usize,
    dc: usize,
    ac: usize,
}

fn be16(b: &[u8], at: usize) -> R<usize> {
    match b.get(at..at + 2) {
        Some(s) => Ok(u16::from_be_bytes([s[0], s[1]]) as usize),
        None => Err(Unsupported("truncated header")),
    }
}

/// Decodes the 1/8-scale luma of `bytes`, or declines.
pub fn luma_eighth(bytes: &[u8], limits: Limits) -> R<LumaEighth> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return Err(Unsupported("not a JPEG"));
    }
    let mut pos = 2;
    let mut dc_tables: [Option<Rc<Huffman>>; 4] = Default::default();
    let mut ac_tables: [Option<Rc<Huffman>>; 4] = Default::default();
    let mut quant0 = [None::<u16>; 4];
    let mut restart_interval = 0usize;
    let mut jfif = false;
    let mut adobe_transform = None::<u8>;
    let mut frame: Option<(u32, u32, bool, Vec<Component>)> = None;
    loop {
        // Next marker (fill bytes allowed).
        if bytes.get(pos) != Some(&0xFF) {
            return Err(Unsupported("expected a marker"));
        }
        while bytes.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let marker = *bytes.get(pos).ok_or(Unsupported("truncated header"))?;
        pos += 1;
        match marker {
            0x01 | 0xD0..=0xD7 => continue,
            0xD8 | 0xD9 => return Err(Unsupported("no luma DC scan before end of image")),
            _ => {}
        }
        let len = be16(bytes, pos)?;
        if len < 2 {
            return Err(Unsupported("bad segment length"));
        }
        let seg = bytes
            .get(pos + 2..pos + len)
            .ok_or(Unsupported("truncated segment"))?;
        pos += len;
        match marker {
            0xC0..=0xC2 => {
                if frame.is_some() {
                    return Err(Unsupported("two frame headers"));
                }
                if seg.first() != Some(&8) {
                    return Err(Unsupported("not 8-bit precision"));
                }
                let height = be16(seg, 1)? as u32;
                let width = be16(seg, 3)? as u32;
                if width == 0
                    || height == 0
                    || width > limits.max_side
                    || height > limits.max_side
                    || width as u64 * height as u64 > limits.max_pixels
                {
                    return Err(Unsupported("declared size outside the limits"));
                }
                if width.div_ceil(8) < limits.min_eighth_side
                    || height.div_ceil(8) < limits.min_eighth_side
                {
                    return Err(Unsupported("too small for 1/8 scale"));
                }
                let n = *seg.get(5).ok_or(Unsupported("truncated frame header"))? as usize;
                if n != 1 && n != 3 {
                    return Err(Unsupported("neither grey nor three components"));
                }
                let mut comps = Vec::with_capacity(n);
                for i in 0..n {
                    let c = seg
                        .get(6 + 3 * i..9 + 3 * i)
                        .ok_or(Unsupported("truncated frame header"))?;
                    let (h, v) = ((c[1] >> 4) as u32, (c[1] & 15) as u32);
                    if !(1..=4).contains(&h) || !(1..=4).contains(&v) || c[2] > 3 {
                        return Err(Unsupported("bad component"));
                    }
                    comps.push(Component {
                        id: c[0],
                        h,
                        v,
                        tq: c[2] as usize,
                    });
                }
                let (hmax, vmax) = (
                    comps.iter().map(|c| c.h).max().unwrap_or(1),
                    comps.iter().map(|c| c.v).max().unwrap_or(1),
                );
                if comps[0].h != hmax || comps[0].v != vmax {
                    return Err(Unsupported("luma is subsampled"));
                }
                frame = Some((width, height, marker == 0xC2, comps));
            }
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                return Err(Unsupported("arithmetic, lossless or hierarchical JPEG"))
            }
            0xC4 => {
                let mut s = seg;
                while !s.is_empty() {
                    let (class, id) = (s[0] >> 4, (s[0] & 15) as usize);
                    let counts: [u8; 16] = s
                        .get(1..17)
                        .and_then(|c| c.try_into().ok())
                        .ok_or(Unsupported("truncated Huffman table"))?;
                    let total: usize = counts.iter().map(|&c| c as usize).sum();
                    let symbols = s
                        .get(17..17 + total)
                        .ok_or(Unsupported("truncated Huffman table"))?;
                    if id > 3 || class > 1 || total > 256 {
                        return Err(Unsupported("bad Huffman table"));
                    }
                    let table = Some(Huffman::cached(&counts, symbols, class == 1)?);
                    if class == 0 {
                        dc_tables[id] = table;
                    } else {
                        ac_tables[id] = table;
                    }
                    s = &s[17 + total..];
                }
            }
            0xDB => {
                let mut s = seg;
                while !s.is_empty() {
                    let (precision, id) = (s[0] >> 4, (s[0] & 15) as usize);
                    let size = if precision == 0 { 64 } else { 128 };
                    if id > 3 || precision > 1 || s.len() < 1 + size {
                        return Err(Unsupported("bad quantisation table"));
                    }
                    quant0[id] = Some(if precision == 0 {
                        s[1] as u16
                    } else {
                        u16::from_be_bytes([s[1], s[2]])
                    });
                    s = &s[1 + size..];
                }
            }
            0xDD => restart_interval = be16(seg, 0)?,
            0xE0 => jfif |= seg.starts_with(b"JFIF\0"),
            0xEE if seg.starts_with(b"Adobe") && seg.len() >= 12 => {
                adobe_transform = Some(seg[11]);
            }
            0xDA => {
                let (width, height, progressive, comps) = frame
                    .as_ref()
                    .ok_or(Unsupported("scan before frame header"))?;
                let ns = *seg.first().ok_or(Unsupported("truncated scan header"))? as usize;
                let mut scan = Vec::with_capacity(ns);
                for i in 0..ns {
                    let c = seg
                        .get(1 + 2 * i..3 + 2 * i)
                        .ok_or(Unsupported("truncated scan header"))?;
                    let index = comps
                        .iter()
                        .position(|k| k.id == c[0])
                        .ok_or(Unsupported("scan names an unknown component"))?;
                    scan.push(ScanComponent {
                        index,
                        dc: (c[1] >> 4) as usize & 3,
                        ac: (c[1] & 15) as usize & 3,
                    });
                }
                let spectral = seg
                    .get(1 + 2 * ns..4 + 2 * ns)
                    .ok_or(Unsupported("truncated scan header"))?;
                let (ss, se, ah, al) =
                    (spectral[0], spectral[1], spectral[2] >> 4, spectral[2] & 15);
                let wanted =
                    scan.iter().any(|c| c.index == 0) && (!*progressive || (ss == 0 && ah == 0));
                if !wanted {
                    pos = skip_entropy_data(bytes, pos);
                    continue;
                }
                if !*progressive && (ss != 0 || se != 63) {
                    return Err(Unsupported("sequential scan without all coefficients"));
                }
                if comps.len() == 3 {
                    let rgb_ids = comps.iter().map(|c| c.id).eq(*b"RGB");
                    match adobe_transform {
                        Some(0) => return Err(Unsupported("RGB JPEG")),
                        None if !jfif && rgb_ids => return Err(Unsupported("RGB JPEG")),
                        _ => {}
                    }
                }
                let q = quant0[comps[0].tq].ok_or(Unsupported("missing quantisation table"))?;
                let decode_ac = !*progressive;
                let scan_tables = scan
                    .iter()
                    .map(|c| {
                        let dc = dc_tables[c.dc]
                            .as_deref()
                            .ok_or(Unsupported("missing DC table"))?;
                        let ac = if decode_ac {
                            Some(
                                ac_tables[c.ac]
                                    .as_deref()
                                    .ok_or(Unsupported("missing AC table"))?,
                            )
                        } else {
                            None
                        };
                        Ok((c.index, dc, ac))
                    })
                    .collect::<R<Vec<_>>>()?;
                let geometry = Geometry::new(*width, *height, comps, &scan);
                let luma = decode_scan(
                    bytes,
                    pos,
                    &geometry,
                    &scan_tables,
                    comps,
                    restart_interval,
                    al as u32,
                    q as i32,
                )?;
                return Ok(LumaEighth {
                    width: *width,
                    height: *height,
                    eighth_width: geometry.out_w,
                    eighth_height: geometry.out_h,
                    pixels: luma,
                });
            }
            _ => {}
        }
    }
}

/// Where the entropy-coded data starting at `pos` ends: the next marker
/// that is neither stuffing nor a restart.
fn skip_entropy_data(bytes: &[u8], mut pos: usize) -> usize {
    while pos + 1 < bytes.len() {
        if bytes[pos] == 0xFF && !matches!(bytes[pos + 1], 0x00 | 0xD0..=0xD7 | 0xFF) {
            return pos;
        }
        pos += 1;
    }
    bytes.len()
}

/// Block layout of one scan and of the luma output.
struct Geometry {
    out_w: usize,
    out_h: usize,
    /// MCUs across and down.
    mcus_x: usize,
    mcus_y: usize,
    /// Interleaved scans have several blocks per component in an MCU.
    interleaved: bool,
}

impl Geometry {
    fn new(width: u32, height: u32, comps: &[Component], scan: &[ScanComponent]) -> Geometry {
        let hmax = comps.iter().map(|c| c.h).max().unwrap_or(1);
        let vmax = comps.iter().map(|c| c.v).max().unwrap_or(1);
        let out_w = width.div_ceil(8) as usize;
        let out_h = height.div_ceil(8) as usize;
        if scan.len() == 1 {
            // One component: one block per MCU, over that component's blocks.
            let c = comps[scan[0].index];
            let cw = (width * c.h).div_ceil(hmax).div_ceil(8) as usize;
            let ch = (height * c.v).div_ceil(vmax).div_ceil(8) as usize;
            Geometry {
                out_w,
                out_h,
                mcus_x: cw,
                mcus_y: ch,
                interleaved: false,
            }
        } else {
            Geometry {
                out_w,
                out_h,
                mcus_x: width.div_ceil(8 * hmax) as usize,
                mcus_y: height.div_ceil(8 * vmax) as usize,
                interleaved: true,
            }
        }
    }
}

/// One block of an MCU, in the order the scan codes them.
struct Slot<'a> {
    dc: &'a Huffman,
    ac: Option<&'a Huffman>,
    /// For a luma block, its row and column within the MCU's luma blocks.
    luma: Option<(usize, usize)>,
}

#[allow(clippy::too_many_arguments)]
fn decode_scan(
    bytes: &[u8],
    pos: usize,
    g: &Geometry,
    tables: &[(usize, &Huffman, Option<&Huffman>)],
    comps: &[Component],
    restart_interval: usize,
    al: u32,
    q: i32,
) -> R<Vec<u8>> {
    // The MCU's blocks laid out once, so that the loop over the data does
    // not work out each block's component and place again.
    let mut slots = Vec::new();
    let (mut luma_h, mut luma_v) = (1usize, 1usize);
    for &(index, dc, ac) in tables {
        let c = comps[index];
        let (bh, bv) = if g.interleaved {
            (c.h as usize, c.v as usize)
        } else {
            (1, 1)
        };
        if index == 0 {
            (luma_h, luma_v) = (bh, bv);
        }
        for by in 0..bv {
            for bx in 0..bh {
                let luma = (index == 0).then_some((by, bx));
                slots.push(Slot { dc, ac, luma });
            }
        }
    }
    let mut out = vec![128u8; g.out_w * g.out_h];
    let mut bits = Bits::new(bytes, pos);
    // Only the luma DC predictor matters: the chroma blocks are stepped over.
    let mut pred = 0i32;
    let mut mcus_to_restart = restart_interval;
    for my in 0..g.mcus_y {
        for mx in 0..g.mcus_x {
            if restart_interval > 0 {
                if mcus_to_restart == 0 {
                    if bits.overran() {
                        return Err(Unsupported("entropy data ended early"));
                    }
                    bits.restart()?;
                    pred = 0;
                    mcus_to_restart = restart_interval;
                }
                mcus_to_restart -= 1;
            }
            for slot in &slots {
                if bits.nbits < 32 {
                    bits.refill();
                }
                let s = bits.symbol(slot.dc)? as u32;
                if s > 15 {
                    return Err(Unsupported("bad DC magnitude"));
                }
                // (At least 16 bits are left: 32 were buffered.)
                match slot.luma {
                    Some(_) => pred = pred.wrapping_add(bits.receive_extend(s)),
                    None => bits.consume(s),
                }
                if let Some(ac) = slot.ac {
                    bits.skip_ac(ac)?;
                }
                if let Some((by, bx)) = slot.luma {
                    let (row, col) = (my * luma_v + by, mx * luma_h + bx);
                    if row < g.out_h && col < g.out_w {
                        // libjpeg's 1×1 inverse DCT: descale the dequantised
                        // DC by 8.
                        let v = ((((pred as i64) << al) * q as i64 + 4) >> 3) + 128;
                        out[row * g.out_w + col] = v.clamp(0, 255) as u8;
                    }
                }
            }
        }
        if bits.overran() {
            return Err(Unsupported("entropy data ended early"));
        }
    }
    Ok(out)
}
