//! Metadata stripping on real files that carry a GPS position, a phone model and a serial
//! number: JPEG and WebP with an Exif block written by `kamadak-exif`, PNG with text and
//! `eXIf` chunks, an M4A written by the `mp4` crate with a `udta/©xyz` location and a `meta`
//! box. After stripping, the image still decodes (`image`), the audio still parses and every
//! sample reads back the same (`mp4`), and the identifying bytes are gone; with
//! `keep_metadata` they stay.

mod common;

use std::fs;
use std::io::Cursor;

use berani_core::age;
use berani_core::model::{Category, FieldValue};
use berani_core::strip;
use common::*;
use exif::{Field, In, Rational, Tag, Value};
use img_parts::png::{Png, PngChunk};
use img_parts::riff::{RiffChunk, RiffContent};
use img_parts::webp::WebP;
use img_parts::{Bytes, ImageEXIF};

const MODEL: &str = "SM-RAHASIA-9000";
const SERIAL: &str = "BeraniSerial0042";
const XMP_MARK: &str = "XMP-GPS-7.0034S";
const COMMENT: &str = "COMMENT-ALAMAT-RUMAH";
const TRAILER: &str = "TRAILER-GPS-111.4";
const LOCATION: &str = "+07.1234+111.5678/";
/// The latitude's seconds as a rational, big-endian: a byte pattern found nowhere else.
const LAT_SECONDS: Rational = Rational {
    num: 123_456_789,
    denom: 1_000_000,
};

fn lat_bytes() -> Vec<u8> {
    [
        LAT_SECONDS.num.to_be_bytes(),
        LAT_SECONDS.denom.to_be_bytes(),
    ]
    .concat()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// A phone-like Exif block: make, model, orientation 6, body serial, GPS position, and a JPEG
/// thumbnail.
fn gps_exif(thumb: &[u8]) -> Vec<u8> {
    let ascii = |s: &str| Value::Ascii(vec![s.as_bytes().to_vec()]);
    let r = |num, denom| Rational { num, denom };
    let fields = [
        (Tag::Make, ascii("BeraniPhone")),
        (Tag::Model, ascii(MODEL)),
        (Tag::Orientation, Value::Short(vec![6])),
        (Tag::BodySerialNumber, ascii(SERIAL)),
        (Tag::GPSLatitudeRef, ascii("S")),
        (
            Tag::GPSLatitude,
            Value::Rational(vec![r(7, 1), r(0, 1), LAT_SECONDS]),
        ),
        (Tag::GPSLongitudeRef, ascii("E")),
        (
            Tag::GPSLongitude,
            Value::Rational(vec![r(111, 1), r(24, 1), r(1, 1)]),
        ),
    ]
    .map(|(tag, value)| Field {
        tag,
        ifd_num: In::PRIMARY,
        value,
    });
    let mut w = exif::experimental::Writer::new();
    for f in &fields {
        w.push_field(f);
    }
    w.set_jpeg(thumb, In::THUMBNAIL);
    let mut out = Cursor::new(Vec::new());
    w.write(&mut out, false).unwrap();
    out.into_inner()
}

fn picture() -> image::RgbImage {
    image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 5) as u8, 90])
    })
}

fn encode(format: image::ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(picture())
        .write_to(&mut out, format)
        .unwrap();
    out.into_inner()
}

fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
    s.extend_from_slice(body);
    s
}

/// A JPEG as a phone writes it: Exif with GPS and a thumbnail, XMP, a comment, and a trailer
/// after the image.
fn phone_jpeg() -> Vec<u8> {
    let plain = encode(image::ImageFormat::Jpeg);
    let exif = [b"Exif\0\0".as_slice(), &gps_exif(&plain)].concat();
    let xmp = format!("http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>{XMP_MARK}</x:xmpmeta>");
    [
        &plain[..2],
        &segment(0xE1, &exif),
        &segment(0xE1, xmp.as_bytes()),
        &segment(0xFE, COMMENT.as_bytes()),
        &plain[2..],
        TRAILER.as_bytes(),
    ]
    .concat()
}

fn assert_identifying_gone(out: &[u8]) {
    for s in [MODEL, SERIAL, XMP_MARK, COMMENT, TRAILER, LOCATION] {
        assert!(!contains(out, s.as_bytes()), "{s} is still there");
    }
    assert!(
        !contains(out, &lat_bytes()),
        "the GPS latitude is still there"
    );
}

#[test]
fn jpeg_loses_gps_model_serial_thumbnail_and_trailer_but_still_decodes() {
    let original = phone_jpeg();
    assert!(contains(&original, MODEL.as_bytes()) && contains(&original, &lat_bytes()));
    let out = strip::strip_jpeg(&original).unwrap();
    assert_identifying_gone(&out);
    assert!(
        out.len() < original.len() / 2 + 200,
        "the thumbnail is gone"
    );
    let img = image::load_from_memory_with_format(&out, image::ImageFormat::Jpeg).unwrap();
    assert_eq!((img.width(), img.height()), (64, 48));
    // Only the orientation is written back, so the photo is not shown rotated.
    let jpeg = img_parts::jpeg::Jpeg::from_bytes(Bytes::from(out.clone())).unwrap();
    let exif = exif::Reader::new()
        .read_raw(jpeg.exif().unwrap().to_vec())
        .unwrap();
    let tags: Vec<_> = exif.fields().map(|f| f.tag).collect();
    assert_eq!(tags, [Tag::Orientation]);
    assert_eq!(
        exif.get_field(Tag::Orientation, In::PRIMARY)
            .unwrap()
            .value
            .get_uint(0),
        Some(6)
    );
    // Stripping again changes nothing.
    assert_eq!(strip::strip_jpeg(&out).unwrap(), out);
}

#[test]
fn png_loses_text_exif_and_time_chunks_but_still_decodes() {
    let plain = encode(image::ImageFormat::Png);
    let mut png = Png::from_bytes(Bytes::from(plain)).unwrap();
    let extra = [
        (*b"tEXt", format!("Model\0{MODEL}").into_bytes()),
        (
            *b"iTXt",
            format!("XML:com.adobe.xmp\0\0\0\0\0{XMP_MARK}").into_bytes(),
        ),
        (*b"zTXt", b"Comment\0\0x".to_vec()),
        (*b"tIME", vec![7, 232, 1, 2, 3, 4, 5]),
        (*b"eXIf", gps_exif(&[])),
    ];
    for (kind, body) in extra {
        let at = png.chunks().len() - 1;
        png.chunks_mut()
            .insert(at, PngChunk::new(kind, Bytes::from(body)));
    }
    let original = png.encoder().bytes().to_vec();
    assert!(contains(&original, &lat_bytes()));
    let out = strip::strip_png(&original).unwrap();
    assert_identifying_gone(&out);
    let kinds: Vec<[u8; 4]> = Png::from_bytes(Bytes::from(out.clone()))
        .unwrap()
        .chunks()
        .iter()
        .map(|c| c.kind())
        .filter(|k| k != b"IDAT")
        .collect();
    assert_eq!(kinds, [*b"IHDR", *b"IEND"]);
    let img = image::load_from_memory_with_format(&out, image::ImageFormat::Png).unwrap();
    assert_eq!(img.to_rgb8(), picture(), "lossless: same pixels");
}

#[test]
fn webp_loses_exif_and_xmp_with_flags_and_size_fixed_but_still_decodes() {
    let plain = encode(image::ImageFormat::WebP);
    let mut webp = WebP::from_bytes(Bytes::from(plain)).unwrap();
    webp.set_exif(Some(Bytes::from(gps_exif(&[]))));
    webp.chunks_mut().push(RiffChunk::new(
        *b"XMP ",
        RiffContent::Data(Bytes::from(XMP_MARK.as_bytes().to_vec())),
    ));
    let mut original = webp.encoder().bytes().to_vec();
    // Announce XMP in VP8X as a writer would (img-parts sets the Exif flag itself).
    let vp8x = contains_at(&original, b"VP8X").unwrap();
    original[vp8x + 8] |= 0b0000_0100;
    assert_eq!(original[vp8x + 8] & 0b0000_1100, 0b0000_1100);

    let out = strip::strip_webp(&original).unwrap();
    assert_identifying_gone(&out);
    let ids: Vec<[u8; 4]> = WebP::from_bytes(Bytes::from(out.clone()))
        .unwrap()
        .chunks()
        .iter()
        .map(|c| c.id())
        .collect();
    assert!(!ids.contains(b"EXIF") && !ids.contains(b"XMP "), "{ids:?}");
    if let Some(at) = contains_at(&out, b"VP8X") {
        assert_eq!(out[at + 8] & 0b0000_1100, 0, "Exif and XMP flags cleared");
    }
    let riff_size = u32::from_le_bytes(out[4..8].try_into().unwrap()) as usize;
    assert_eq!(riff_size, out.len() - 8, "RIFF size written anew");
    let img = image::load_from_memory_with_format(&out, image::ImageFormat::WebP).unwrap();
    assert_eq!(img.to_rgb8(), picture(), "lossless: same pixels");
}

fn contains_at(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    v.extend_from_slice(kind);
    v.extend_from_slice(body);
    v
}

/// An M4A written by the `mp4` crate (ftyp, mdat, moov), with a `udta` holding a `©xyz`
/// location and a device name, and a `meta` box, added at the end of `moov`.
fn phone_m4a() -> (Vec<u8>, Vec<Vec<u8>>) {
    use mp4::{
        AacConfig, AudioObjectType, ChannelConfig, MediaConfig, Mp4Config, Mp4Sample, Mp4Writer,
        SampleFreqIndex, TrackConfig, TrackType,
    };
    let config = Mp4Config {
        major_brand: "M4A ".parse().unwrap(),
        minor_version: 0,
        compatible_brands: vec!["M4A ".parse().unwrap(), "isom".parse().unwrap()],
        timescale: 1000,
    };
    let mut w = Mp4Writer::write_start(Cursor::new(Vec::new()), &config).unwrap();
    w.add_track(&TrackConfig {
        track_type: TrackType::Audio,
        timescale: 8000,
        language: "und".into(),
        media_conf: MediaConfig::AacConfig(AacConfig {
            bitrate: 32000,
            profile: AudioObjectType::AacLowComplexity,
            freq_index: SampleFreqIndex::Freq8000,
            chan_conf: ChannelConfig::Mono,
        }),
    })
    .unwrap();
    let samples: Vec<Vec<u8>> = (0..20u8).map(|i| vec![i; 50 + i as usize]).collect();
    for (i, s) in samples.iter().enumerate() {
        w.write_sample(
            1,
            &Mp4Sample {
                start_time: i as u64 * 1024,
                duration: 1024,
                rendering_offset: 0,
                is_sync: true,
                bytes: Bytes::from(s.clone()),
            },
        )
        .unwrap();
    }
    w.write_end().unwrap();
    let mut file = w.into_writer().into_inner();

    // moov is the last box: grow it by the metadata boxes.
    let moov = contains_at(&file, b"moov").unwrap() - 4;
    assert_eq!(
        u32::from_be_bytes(file[moov..moov + 4].try_into().unwrap()) as usize,
        file.len() - moov
    );
    let xyz = [&[0, 18, 0x15, 0xC7][..], LOCATION.as_bytes()].concat();
    let udta = bx(
        b"udta",
        &[bx(b"\xa9xyz", &xyz), bx(b"\xa9mak", MODEL.as_bytes())].concat(),
    );
    let hdlr = [&[0u8; 8][..], b"mdir", &[0; 12], SERIAL.as_bytes(), &[0]].concat();
    let meta = bx(b"meta", &[&[0u8; 4][..], &bx(b"hdlr", &hdlr)].concat());
    file.extend_from_slice(&udta);
    file.extend_from_slice(&meta);
    let size = (file.len() - moov) as u32;
    file[moov..moov + 4].copy_from_slice(&size.to_be_bytes());
    (file, samples)
}

fn strip_iso(file: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let plan = strip::plan_iso_media(&mut Cursor::new(file), file.len() as u64).unwrap();
    let mut out = Vec::new();
    strip::Patched::new(file, plan)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn read_samples(file: &[u8]) -> Vec<Vec<u8>> {
    let mut r = mp4::Mp4Reader::read_header(Cursor::new(file), file.len() as u64).unwrap();
    let n = r.sample_count(1).unwrap();
    (1..=n)
        .map(|i| r.read_sample(1, i).unwrap().unwrap().bytes.to_vec())
        .collect()
}

#[test]
fn m4a_location_and_device_boxes_are_blanked_in_place() {
    let (original, samples) = phone_m4a();
    assert_eq!(read_samples(&original), samples, "the sample file reads");
    assert!(contains(&original, LOCATION.as_bytes()));

    let out = strip_iso(&original);
    assert_identifying_gone(&out);
    assert!(!contains(&out, b"udta") && !contains(&out, b"\xa9xyz"));
    assert_eq!(out.len(), original.len(), "nothing moves");
    let mdat = contains_at(&original, b"mdat").unwrap() - 4;
    let moov = contains_at(&original, b"moov").unwrap() - 4;
    assert_eq!(
        out[..moov],
        original[..moov],
        "ftyp and mdat byte-identical"
    );
    assert!(mdat < moov);
    assert_eq!(
        read_samples(&out),
        samples,
        "every sample reads back the same"
    );
}

#[test]
fn attach_file_strips_by_default_and_keeps_metadata_when_asked() {
    let (h, r) = home();
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("IMG_0001.jpg");
    fs::write(&photo, phone_jpeg()).unwrap();
    let (m4a, _) = phone_m4a();
    let video = dir.path().join("rekaman.m4a");
    fs::write(&video, &m4a).unwrap();

    let d = r.create_draft().unwrap();
    for v in [
        FieldValue::Category(Some(Category::Physical)),
        FieldValue::District(Some("33.16.05".into())),
        FieldValue::Description(Some("Tetangga memukul anaknya.".into())),
    ] {
        r.update_draft(&d.id, v).unwrap();
    }
    let stripped = r.attach_file(&d.id, &photo, false, false).unwrap();
    assert!(stripped.size < fs::metadata(&photo).unwrap().len());
    r.attach_file(&d.id, &photo, false, true).unwrap();
    let audio = r.attach_file(&d.id, &video, true, false).unwrap();
    assert_eq!(audio.size, m4a.len() as u64, "blanked in place: same size");
    r.attach_file(&d.id, &video, true, true).unwrap();
    let report = r.submit(&d.id).unwrap();

    let open = |idx: u32| {
        let sealed = fs::read(h.data().join(format!("outbox/{}/{idx}.age", report.id))).unwrap();
        let mut out = Vec::new();
        age::open(
            std::slice::from_ref(&h.agency.identity),
            &sealed[..],
            &mut out,
        )
        .unwrap();
        out
    };
    let (photo_stripped, photo_kept) = (open(1), open(2));
    assert_identifying_gone(&photo_stripped);
    image::load_from_memory(&photo_stripped).unwrap();
    assert_eq!(photo_kept, phone_jpeg(), "kept as evidence, byte for byte");
    let (audio_stripped, audio_kept) = (open(3), open(4));
    assert_identifying_gone(&audio_stripped);
    assert_eq!(audio_kept, m4a);
    // Nothing identifying was ever written in clear under the home folder.
    for s in [MODEL.as_bytes(), LOCATION.as_bytes(), &lat_bytes()] {
        assert!(files_containing(&h.data(), s).is_empty());
    }
}

#[test]
fn a_damaged_photo_is_refused_rather_than_kept_with_its_metadata() {
    let (_h, r) = home();
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.jpg");
    let jpeg = phone_jpeg();
    // Cut inside the Exif block: recognisably a JPEG, but not parseable.
    fs::write(&broken, &jpeg[..300]).unwrap();
    let d = r.create_draft().unwrap();
    let e = r.attach_file(&d.id, &broken, false, false).unwrap_err();
    assert!(
        matches!(&e, berani_core::CoreError::InvalidInput(f)
            if f.reason == berani_core::Reason::MetadataNotRemoved),
        "{e}"
    );
    assert!(e.to_string().contains("could not be removed"));
    // As evidence, as it is, it can still be attached.
    r.attach_file(&d.id, &broken, false, true).unwrap();
}
