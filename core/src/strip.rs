//! Removing identifying metadata from attachments before they are stored and sealed.
//!
//! A photo straight from a phone carries the GPS position where it was taken (often the
//! house the reporter lives in), the time, the phone's model and serial numbers and a
//! thumbnail; a video carries the same in its `udta`/`meta` boxes. Stripping is on by
//! default; a reporter may keep the metadata of one attachment as evidence (see
//! [`KEEP_METADATA_WARNING_ID`]).
//!
//! What is done, per format:
//! - **JPEG** (segments parsed with `img-parts`): keeps what rendering needs — JFIF `APP0`
//!   (with its thumbnail cleared), ICC profiles in `APP2`, Adobe `APP14`, and the image's own
//!   markers — and drops every other `APPn` (Exif and XMP in `APP1`, IPTC/Photoshop in
//!   `APP13`, maker data, the MPF index), `COM` comments and anything after the end-of-image
//!   marker (MPF secondary images, vendor trailers). The Exif orientation alone is written
//!   back in a minimal Exif block so the photo is not shown rotated.
//! - **PNG** (`img-parts`): keeps the critical chunks and the ancillary chunks that change
//!   how the image looks or animates; drops `tEXt`, `zTXt`, `iTXt`, `eXIf`, `tIME` and every
//!   other ancillary chunk.
//! - **WebP** (`img-parts`): drops the `EXIF` and `XMP ` chunks and any unknown chunk, clears
//!   the Exif and XMP flags of `VP8X`; the RIFF size is written anew.
//! - **MP4, 3GP, QuickTime video and M4A audio** (ISO base media files, walked by the small
//!   bounds-checked parser in this module, fuzzed by `core/fuzz`): every `udta` and `meta`
//!   box at the top level, in `moov` and in each `trak` (which hold `©xyz` and `loci`
//!   locations, the recording device, names and dates), and the XMP `uuid` box, are rewritten
//!   **in place** as `free` boxes with their payload zeroed. Nothing moves, so the sample
//!   offsets in `stco`/`co64` stay right, and every player skips `free`.
//!
//! Any other type (HEIC/HEIF, GIF, audio other than M4A, PDF, WebM/Matroska) passes through
//! unchanged. A file of a handled type that cannot be parsed is refused rather than stored
//! with its metadata (`Reason::MetadataNotRemoved`), unless the reporter keeps metadata.

use std::io::{self, Read, Seek, SeekFrom};

use img_parts::jpeg::{Jpeg, JpegSegment, markers};
use img_parts::png::Png;
use img_parts::riff::RiffContent;
use img_parts::webp::WebP;
use img_parts::{Bytes, ImageEXIF};

/// The warning a front end shows before a reporter keeps an attachment's metadata, in
/// Indonesian.
pub const KEEP_METADATA_WARNING_ID: &str = "Peringatan: jika metadata disimpan, file dikirim apa \
adanya, termasuk lokasi (GPS) tempat foto atau video diambil, waktunya, serta merek, tipe dan \
nomor seri ponsel. Ini bisa berguna sebagai bukti, tetapi siapa pun yang kelak melihat file ini \
(misalnya dalam proses hukum) bisa mengetahui tempat itu — mungkin rumah Anda. Pilih ini hanya \
jika Anda yakin aman.";

/// The same warning, in English.
pub const KEEP_METADATA_WARNING_EN: &str = "Warning: if you keep the metadata, the file is sent \
as it is, including the location (GPS) where the photo or video was taken, the time, and the \
phone's make, model and serial number. This can help as evidence, but anyone who later sees the \
file (for example in court) can learn that place — perhaps your home. Choose this only if you \
are sure it is safe.";

/// Largest image read into memory for stripping; larger photos are refused unless the
/// reporter keeps their metadata (no phone camera writes one this large).
pub const MAX_IMAGE_BYTES: u64 = 64 * 1024 * 1024;

/// How a file of a given media type is stripped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// JPEG, PNG or WebP: rewritten in memory.
    Image(ImageFormat),
    /// ISO base media (MP4, 3GP, QuickTime, M4A): metadata boxes blanked in place.
    IsoMedia,
    /// Passed through unchanged.
    None,
}

/// An image format that is stripped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// JPEG.
    Jpeg,
    /// PNG.
    Png,
    /// WebP.
    WebP,
}

/// The stripping method for a detected media type.
pub fn method_for(mime: &str) -> Method {
    match mime {
        "image/jpeg" => Method::Image(ImageFormat::Jpeg),
        "image/png" => Method::Image(ImageFormat::Png),
        "image/webp" => Method::Image(ImageFormat::WebP),
        "video/mp4" | "video/3gpp" | "video/quicktime" | "video/x-m4v" | "audio/mp4"
        | "audio/m4a" | "audio/x-m4a" => Method::IsoMedia,
        _ => Method::None,
    }
}

/// The file could not be parsed, so its metadata could not be removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unparseable;

/// Returns the image without its identifying metadata.
pub fn strip_image(format: ImageFormat, data: &[u8]) -> Result<Vec<u8>, Unparseable> {
    match format {
        ImageFormat::Jpeg => strip_jpeg(data),
        ImageFormat::Png => strip_png(data),
        ImageFormat::WebP => strip_webp(data),
    }
}

// ----- JPEG -----------------------------------------------------------------------------------

const ICC_PREFIX: &[u8] = b"ICC_PROFILE\0";
const ADOBE_PREFIX: &[u8] = b"Adobe";
const JFIF_PREFIX: &[u8] = b"JFIF\0";
const EXIF_PREFIX: &[u8] = b"Exif\0\0";

/// Strips a JPEG. See the module documentation for what is kept.
pub fn strip_jpeg(data: &[u8]) -> Result<Vec<u8>, Unparseable> {
    let mut jpeg = Jpeg::from_bytes(Bytes::copy_from_slice(data)).map_err(|_| Unparseable)?;
    let orientation = jpeg.exif().and_then(|e| exif_orientation(&e));
    let mut kept = Vec::with_capacity(jpeg.segments().len());
    let mut scan = false;
    for seg in jpeg.segments_mut().drain(..) {
        let m = seg.marker();
        let c = seg.contents();
        let keep = match m {
            markers::APP0 if c.starts_with(JFIF_PREFIX) && c.len() >= 14 => {
                // Version, units and density; the thumbnail size set to 0×0, its pixels dropped.
                let mut jfif = c[..14].to_vec();
                jfif[12] = 0;
                jfif[13] = 0;
                kept.push(JpegSegment::new_with_contents(m, Bytes::from(jfif)));
                continue;
            }
            markers::APP2 => c.starts_with(ICC_PREFIX),
            markers::APP14 => c.starts_with(ADOBE_PREFIX),
            markers::APP0..=markers::APP15 | markers::COM => false,
            markers::SOS => {
                scan = true;
                // The entropy segment runs to the end of the file: cut it after the image's
                // end-of-image marker, dropping trailers and appended images.
                let entropy = seg_entropy(&seg);
                let end = image_end(&entropy).ok_or(Unparseable)?;
                kept.push(JpegSegment::new_with_entropy(
                    m,
                    c.clone(),
                    entropy.slice(..end),
                ));
                continue;
            }
            _ => true,
        };
        if keep {
            kept.push(seg);
        }
    }
    if !scan {
        return Err(Unparseable);
    }
    *jpeg.segments_mut() = kept;
    if let Some(o) = orientation {
        jpeg.set_exif(Some(Bytes::from(orientation_exif(o))));
    }
    let mut out = Vec::with_capacity(data.len());
    jpeg.encoder().write_to(&mut out).map_err(|_| Unparseable)?;
    Ok(out)
}

/// The entropy-coded data of a start-of-scan segment (which `img-parts` runs to the end of
/// the file): the third piece of its encoding, after the marker and the header.
fn seg_entropy(seg: &JpegSegment) -> Bytes {
    seg.clone().encoder().nth(2).unwrap_or_default()
}

/// Where the image ends in the data after a start-of-scan header: the offset just past the
/// end-of-image marker (`FF D9`), skipping entropy-coded data, restart markers and the marker
/// segments between scans of a progressive JPEG. `None` if there is no end-of-image marker.
/// Exposed for the fuzzer.
pub fn image_end(d: &[u8]) -> Option<usize> {
    let mut i = 0usize;
    while i + 1 < d.len() {
        if d[i] != 0xFF {
            i += 1;
            continue;
        }
        let m = d[i + 1];
        match m {
            // Stuffed zero, fill byte, restart marker: still entropy data.
            0x00 | 0xD0..=0xD7 => i += 2,
            0xFF => i += 1,
            0xD9 => return Some(i + 2),
            0x01 | 0xD8 => i += 2,
            _ => {
                // A marker segment between scans: skip its length-counted payload.
                let len = u16::from_be_bytes([*d.get(i + 2)?, *d.get(i + 3)?]) as usize;
                if len < 2 {
                    return None;
                }
                i = i.checked_add(2 + len)?;
            }
        }
    }
    None
}

/// The Exif orientation (1–8) in an Exif block (TIFF data, with or without the `Exif\0\0`
/// prefix), if it is there and not the default.
fn exif_orientation(exif: &[u8]) -> Option<u16> {
    let tiff = exif.strip_prefix(EXIF_PREFIX).unwrap_or(exif);
    let parsed = exif::Reader::new().read_raw(tiff.to_vec()).ok()?;
    let field = parsed.get_field(exif::Tag::Orientation, exif::In::PRIMARY)?;
    let o = field.value.get_uint(0)?;
    (2..=8).contains(&o).then_some(o as u16)
}

/// A minimal big-endian TIFF block holding only the orientation tag.
fn orientation_exif(o: u16) -> Vec<u8> {
    let mut t = Vec::with_capacity(26);
    t.extend_from_slice(b"MM\0\x2a\0\0\0\x08"); // header, first IFD at 8
    t.extend_from_slice(&1u16.to_be_bytes()); // one entry
    t.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    t.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    t.extend_from_slice(&1u32.to_be_bytes()); // count
    t.extend_from_slice(&o.to_be_bytes());
    t.extend_from_slice(&[0, 0]); // value padding
    t.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    t
}

// ----- PNG ------------------------------------------------------------------------------------

/// Ancillary PNG chunks kept because they change how the image is shown.
const PNG_KEEP: [&[u8; 4]; 13] = [
    b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"bKGD", b"pHYs", b"acTL", b"fcTL",
    b"fdAT", b"cICP", b"mDCV",
];

/// Strips a PNG: critical chunks and [`PNG_KEEP`] stay, every other ancillary chunk goes.
pub fn strip_png(data: &[u8]) -> Result<Vec<u8>, Unparseable> {
    let mut png = Png::from_bytes(Bytes::copy_from_slice(data)).map_err(|_| Unparseable)?;
    if png.chunks().first().map(|c| c.kind()) != Some(*b"IHDR") {
        return Err(Unparseable);
    }
    png.chunks_mut().retain(|c| {
        let k = c.kind();
        let critical = k[0].is_ascii_uppercase();
        critical || k == *b"cLLI" || PNG_KEEP.contains(&&k)
    });
    let mut out = Vec::with_capacity(data.len());
    png.encoder().write_to(&mut out).map_err(|_| Unparseable)?;
    Ok(out)
}

// ----- WebP -----------------------------------------------------------------------------------

const WEBP_KEEP: [&[u8; 4]; 7] = [
    b"VP8X", b"VP8 ", b"VP8L", b"ALPH", b"ANIM", b"ANMF", b"ICCP",
];
const VP8X_EXIF: u8 = 0b0000_1000;
const VP8X_XMP: u8 = 0b0000_0100;

/// Strips a WebP: only image, animation, alpha and colour-profile chunks stay; the `VP8X`
/// flags no longer announce Exif or XMP.
pub fn strip_webp(data: &[u8]) -> Result<Vec<u8>, Unparseable> {
    let mut webp = WebP::from_bytes(Bytes::copy_from_slice(data)).map_err(|_| Unparseable)?;
    webp.chunks_mut().retain(|c| WEBP_KEEP.contains(&&c.id()));
    if !webp
        .chunks()
        .iter()
        .any(|c| matches!(&c.id(), b"VP8 " | b"VP8L" | b"ANMF"))
    {
        return Err(Unparseable);
    }
    for c in webp.chunks_mut() {
        if c.id() == *b"VP8X"
            && let RiffContent::Data(d) = c.content_mut()
            && let Some(&flags) = d.first()
        {
            let mut v = d.to_vec();
            v[0] = flags & !(VP8X_EXIF | VP8X_XMP);
            *d = Bytes::from(v);
        }
    }
    let mut out = Vec::with_capacity(data.len());
    webp.encoder().write_to(&mut out).map_err(|_| Unparseable)?;
    Ok(out)
}

// ----- ISO base media (MP4, 3GP, QuickTime, M4A) ---------------------------------------------

/// The UUID of Adobe's XMP box in ISO base media files.
const XMP_UUID: [u8; 16] = [
    0xBE, 0x7A, 0xCF, 0xCB, 0x97, 0xA9, 0x42, 0xE8, 0x9C, 0x71, 0x99, 0x94, 0x91, 0xE3, 0xAF, 0xAC,
];

/// Bytes to change while copying a file: at `at`, `len` bytes become `with` (repeated `0` for
/// zeroing, or the 4 bytes of `free`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Patch {
    /// Offset in the file.
    pub at: u64,
    /// How many bytes.
    pub len: u64,
    /// `true`: the box type becomes `free` (`len` is 4); `false`: the bytes become zeros.
    pub rename: bool,
}

const MAX_BOXES: usize = 100_000;

struct BoxHead {
    start: u64,
    kind: [u8; 4],
    /// Where the payload starts.
    body: u64,
    end: u64,
}

fn read_head<R: Read + Seek>(r: &mut R, at: u64, limit: u64) -> Result<BoxHead, Unparseable> {
    let io = |_: io::Error| Unparseable;
    if limit.checked_sub(at).is_none_or(|left| left < 8) {
        return Err(Unparseable);
    }
    r.seek(SeekFrom::Start(at)).map_err(io)?;
    let mut h = [0u8; 8];
    r.read_exact(&mut h).map_err(io)?;
    let size32 = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
    let kind = [h[4], h[5], h[6], h[7]];
    let (size, mut body) = match size32 {
        0 => (limit - at, at + 8),
        1 => {
            let mut l = [0u8; 8];
            r.read_exact(&mut l).map_err(io)?;
            (u64::from_be_bytes(l), at + 16)
        }
        n => (u64::from(n), at + 8),
    };
    let end = at.checked_add(size).ok_or(Unparseable)?;
    if size < body - at || end > limit {
        return Err(Unparseable);
    }
    if kind == *b"uuid" {
        body = body
            .checked_add(16)
            .filter(|b| *b <= end)
            .ok_or(Unparseable)?;
    }
    Ok(BoxHead {
        start: at,
        kind,
        body,
        end,
    })
}

fn is_xmp_uuid<R: Read + Seek>(r: &mut R, b: &BoxHead) -> Result<bool, Unparseable> {
    let mut id = [0u8; 16];
    r.seek(SeekFrom::Start(b.body - 16))
        .and_then(|_| r.read_exact(&mut id))
        .map_err(|_| Unparseable)?;
    Ok(id == XMP_UUID)
}

/// Plans the in-place blanking of the metadata boxes of an ISO base media file of `len`
/// bytes. Reads only box headers. Errors on a file whose boxes do not add up.
pub fn plan_iso_media<R: Read + Seek>(r: &mut R, len: u64) -> Result<Vec<Patch>, Unparseable> {
    let mut patches = Vec::new();
    let mut seen = 0usize;
    // (range start, range end, depth): 0 top level, 1 inside moov, 2 inside trak.
    let mut stack = vec![(0u64, len, 0u8)];
    let mut first = true;
    while let Some((mut at, end, depth)) = stack.pop() {
        while at < end {
            seen += 1;
            if seen > MAX_BOXES {
                return Err(Unparseable);
            }
            let b = read_head(r, at, end)?;
            if first {
                // An ISO file starts with ftyp (or, in old QuickTime files, another known box).
                if !matches!(
                    &b.kind,
                    b"ftyp" | b"moov" | b"mdat" | b"free" | b"wide" | b"skip"
                ) {
                    return Err(Unparseable);
                }
                first = false;
            }
            let blank = match &b.kind {
                b"udta" | b"meta" => true,
                b"uuid" => is_xmp_uuid(r, &b)?,
                _ => false,
            };
            if blank {
                patches.push(Patch {
                    at: b.start + 4,
                    len: 4,
                    rename: true,
                });
                let zero_from = if b.kind == *b"uuid" {
                    b.body - 16
                } else {
                    b.body
                };
                if b.end > zero_from {
                    patches.push(Patch {
                        at: zero_from,
                        len: b.end - zero_from,
                        rename: false,
                    });
                }
            } else if (depth == 0 && b.kind == *b"moov") || (depth == 1 && b.kind == *b"trak") {
                stack.push((b.end, end, depth));
                stack.push((b.body, b.end, depth + 1));
                break;
            }
            at = b.end;
        }
    }
    if first {
        return Err(Unparseable);
    }
    patches.sort_by_key(|p| p.at);
    Ok(patches)
}

/// Reads through `inner` (from its start) with the planned patches applied.
pub struct Patched<R> {
    inner: R,
    pos: u64,
    patches: Vec<Patch>,
}

impl<R> Patched<R> {
    /// Applies `patches` (from [`plan_iso_media`]) to what is read from `inner`.
    pub fn new(inner: R, patches: Vec<Patch>) -> Self {
        Patched {
            inner,
            pos: 0,
            patches,
        }
    }
}

impl<R: Read> Read for Patched<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let (from, to) = (self.pos, self.pos + n as u64);
        for p in &self.patches {
            let (ps, pe) = (p.at, p.at + p.len);
            if pe <= from || ps >= to {
                continue;
            }
            for off in ps.max(from)..pe.min(to) {
                buf[(off - from) as usize] = if p.rename {
                    b"free"[(off - ps) as usize]
                } else {
                    0
                };
            }
        }
        self.pos = to;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(body);
        v
    }

    fn patched(file: &[u8]) -> Result<Vec<u8>, Unparseable> {
        let plan = plan_iso_media(&mut Cursor::new(file), file.len() as u64)?;
        let mut out = Vec::new();
        Patched::new(file, plan).read_to_end(&mut out).unwrap();
        Ok(out)
    }

    #[test]
    fn blanks_metadata_boxes_in_place() {
        let xyz = bx(b"\xa9xyz", b"+07.0000+111.4000/");
        let udta = bx(b"udta", &xyz);
        let trak = [bx(b"tkhd", &[1; 20]), bx(b"udta", b"TRACKNAME")].concat();
        let moov = [bx(b"mvhd", &[2; 20]), bx(b"trak", &trak), udta].concat();
        let file = [
            bx(b"ftyp", b"isom\0\0\0\0isom"),
            bx(b"moov", &moov),
            bx(b"mdat", b"SAMPLES"),
        ]
        .concat();
        let out = patched(&file).unwrap();
        assert_eq!(out.len(), file.len());
        let text = String::from_utf8_lossy(&out);
        assert!(!text.contains("+07.0000") && !text.contains("TRACKNAME"));
        assert!(!text.contains("udta") && !text.contains("xyz"));
        assert!(out.ends_with(&bx(b"mdat", b"SAMPLES")));
        assert_eq!(text.matches("free").count(), 2);
    }

    #[test]
    fn truncated_and_garbage_input_is_refused_without_panic() {
        let moov = bx(b"moov", &bx(b"udta", b"abc"));
        let file = [bx(b"ftyp", b"isom"), moov].concat();
        for cut in 0..file.len() {
            let _ = patched(&file[..cut]);
        }
        assert!(patched(&file[..file.len() - 1]).is_err());
        assert!(patched(b"").is_err());
        assert!(patched(b"\0\0\0\x01ftyp\xff\xff\xff\xff\xff\xff\xff\xff").is_err());
        // Pseudo-random bytes: never a panic.
        let mut x = 0x2545F4914F6CDD1Du64;
        for len in 0..400 {
            let mut buf = vec![0u8; len];
            for b in &mut buf {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            let _ = patched(&buf);
            let _ = strip_jpeg(&buf);
            let _ = strip_png(&buf);
            let _ = strip_webp(&buf);
            let _ = image_end(&buf);
            let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xDA, 0, 2];
            jpeg.extend_from_slice(&buf);
            let _ = strip_jpeg(&jpeg);
        }
    }

    #[test]
    fn image_end_skips_stuffing_restarts_and_between_scan_segments() {
        let d = [
            1, 0xFF, 0x00, 2, 0xFF, 0xD0, 3, 0xFF, 0xC4, 0, 4, 0xFF, 0xD9, 9, 0xFF, 0xD9,
        ];
        // The FF D9 inside the DHT segment's payload is skipped; the image ends at the next one.
        assert_eq!(image_end(&d), Some(16));
        assert_eq!(image_end(&[0xFF, 0xC4, 0, 4, 0xFF, 0xD9]), None);
        assert_eq!(image_end(&[1, 2, 0xFF]), None);
    }

    #[test]
    fn unknown_types_pass_through() {
        assert_eq!(method_for("application/pdf"), Method::None);
        assert_eq!(method_for("image/heic"), Method::None);
        assert_eq!(method_for("audio/m4a"), Method::IsoMedia);
    }
}
