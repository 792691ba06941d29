//! The volunteer's poster: one A4 page, rendered as PDF by the server.
//!
//! It carries a QR code to the public page with the volunteer's code (`PUBLIC_URL/?v=CODE`),
//! the code in large type, the emergency numbers (112; SAPA 129 and its WhatsApp; the
//! agency's hotlines from the signed profile) and three plain sentences on how reporting
//! works, in Indonesian with English below, smaller. The text is set in the PDF's built-in
//! Helvetica (nothing embedded, nothing fetched), encoded as WinAnsi; the QR code is drawn as
//! filled rectangles, one per run of dark modules, so it prints sharp at any size.

use berani_core::profile::Hotline;
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use qrcode::{Color, EcLevel, QrCode};

/// A4 in points.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 56.0;

/// What a poster shows.
pub struct Poster<'a> {
    /// The link in the QR code, `PUBLIC_URL/?v=CODE`.
    pub url: &'a str,
    /// The code as printed, e.g. `K7M-2QDV`.
    pub code: &'a str,
    /// The agency's name.
    pub agency: &'a str,
    /// The agency's hotlines.
    pub hotlines: &'a [Hotline],
}

/// The three sentences on how reporting works: Indonesian, English.
pub const HOW: [(&str, &str); 3] = [
    (
        "Pindai kode QR atau buka alamat di atas: pasang aplikasi Berani, atau langsung melapor dari browser tanpa aplikasi.",
        "Scan the QR code or open the address above: install the Berani app, or report straight from the browser without it.",
    ),
    (
        "Ceritakan apa yang terjadi; laporan dikunci di ponsel sehingga hanya petugas Dinas yang dapat membacanya.",
        "Tell what happened; the report is locked on the phone so that only the agency's team can read it.",
    ),
    (
        "Simpan kode laporan yang Anda terima: dengan kode itu Anda dapat membaca tanggapan petugas tanpa menyebut nama.",
        "Keep the report code you receive: with it you can read the team's replies without giving your name.",
    ),
];

/// The link a poster's QR code opens.
pub fn link(public_url: &str, canonical_code: &str) -> String {
    format!("{}/?v={canonical_code}", public_url.trim_end_matches('/'))
}

/// Text as WinAnsi bytes; characters it cannot show become `?`.
fn win(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '–' => 0x96,
            '—' => 0x97,
            '•' => 0x95,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            _ => b'?',
        })
        .collect()
}

/// Helvetica and Helvetica-Bold advance widths (1/1000 em) for ASCII 32..=126, from the
/// Adobe core-font metrics.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667,
    611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500,
    222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];
const HELVETICA_BOLD: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667,
    611, 778, 722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556,
    278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
];

#[derive(Clone, Copy)]
enum Font {
    Regular,
    Bold,
}

impl Font {
    fn name(self) -> Name<'static> {
        match self {
            Font::Regular => Name(b"F1"),
            Font::Bold => Name(b"F2"),
        }
    }

    fn width(self, text: &[u8], size: f32) -> f32 {
        let table = match self {
            Font::Regular => &HELVETICA,
            Font::Bold => &HELVETICA_BOLD,
        };
        let units: u32 = text
            .iter()
            .map(|&b| match b {
                32..=126 => u32::from(table[usize::from(b - 32)]),
                _ => 556,
            })
            .sum();
        units as f32 * size / 1000.0
    }
}

/// Lines of `text` no wider than `max` at `size`.
fn wrap(text: &str, font: Font, size: f32, max: f32) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    for word in text.split_whitespace() {
        let w = win(word);
        let mut candidate = line.clone();
        if !candidate.is_empty() {
            candidate.push(b' ');
        }
        candidate.extend_from_slice(&w);
        if font.width(&candidate, size) > max && !line.is_empty() {
            lines.push(std::mem::replace(&mut line, w));
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

struct Page {
    content: Content,
    /// The baseline of the next line, from the bottom of the page.
    y: f32,
}

impl Page {
    fn grey(&mut self, g: f32) {
        self.content.set_fill_gray(g);
    }

    fn centred(&mut self, text: &[u8], font: Font, size: f32) {
        let w = font.width(text, size);
        self.y -= size * 1.2;
        let c = &mut self.content;
        c.begin_text();
        c.set_font(font.name(), size);
        c.next_line((PAGE_W - w) / 2.0, self.y);
        c.show(Str(text));
        c.end_text();
    }

    fn paragraph(&mut self, text: &str, font: Font, size: f32) {
        for line in wrap(text, font, size, PAGE_W - 2.0 * MARGIN) {
            self.centred(&line, font, size);
        }
    }

    fn gap(&mut self, pt: f32) {
        self.y -= pt;
    }

    /// The QR code, `side` points wide, centred, top at the current position.
    fn qr(&mut self, code: &QrCode, side: f32) {
        let n = code.width();
        let m = side / n as f32;
        let left = (PAGE_W - side) / 2.0;
        let top = self.y;
        self.grey(0.0);
        for row in 0..n {
            let mut col = 0;
            while col < n {
                if code[(col, row)] != Color::Dark {
                    col += 1;
                    continue;
                }
                let start = col;
                while col < n && code[(col, row)] == Color::Dark {
                    col += 1;
                }
                let y = top - (row + 1) as f32 * m;
                self.content
                    .rect(left + start as f32 * m, y, (col - start) as f32 * m, m);
            }
        }
        self.content.fill_nonzero();
        self.y = top - side;
    }
}

/// Renders the poster as a one-page A4 PDF.
pub fn render(p: &Poster) -> Result<Vec<u8>, String> {
    let qr = QrCode::with_error_correction_level(p.url.as_bytes(), EcLevel::M)
        .map_err(|e| format!("the link does not fit a QR code: {e}"))?;

    let mut page = Page {
        content: Content::new(),
        y: PAGE_H - MARGIN + 10.0,
    };
    page.grey(0.0);
    page.centred(b"Berani", Font::Bold, 44.0);
    page.gap(4.0);
    page.paragraph(
        "Lapor kekerasan terhadap perempuan dan anak. Aman dan rahasia.",
        Font::Bold,
        16.0,
    );
    page.grey(0.3);
    page.paragraph(
        "Report violence against women and children. Safe and confidential.",
        Font::Regular,
        11.0,
    );
    page.gap(14.0);
    // About 8 mm quiet zone either side comes from the page's white around it.
    page.qr(&qr, 230.0);
    page.grey(0.0);
    page.gap(2.0);
    page.centred(&win(p.url), Font::Regular, 11.0);
    page.gap(10.0);
    page.centred(b"KODE RELAWAN / VOLUNTEER CODE", Font::Bold, 12.0);
    page.centred(&win(p.code), Font::Bold, 50.0);
    page.gap(14.0);
    page.centred(b"Darurat / Emergency: 112", Font::Bold, 16.0);
    page.centred(&win("SAPA 129 · WhatsApp 08111-129-129"), Font::Bold, 14.0);
    // 112 and SAPA 129 are printed above; a profile that lists them too is not repeated.
    for h in p
        .hotlines
        .iter()
        .filter(|h| !matches!(h.number.trim(), "112" | "129"))
    {
        let line = match &h.whatsapp {
            Some(wa) => format!("{}: {} · WhatsApp {wa}", h.name, h.number),
            None => format!("{}: {}", h.name, h.number),
        };
        page.paragraph(&line, Font::Bold, 13.0);
    }
    page.gap(14.0);
    for (i, (id, en)) in HOW.iter().enumerate() {
        page.grey(0.0);
        page.paragraph(&format!("{}. {id}", i + 1), Font::Regular, 12.0);
        page.grey(0.3);
        page.paragraph(en, Font::Regular, 9.5);
        page.gap(5.0);
    }
    page.grey(0.3);
    page.content.begin_text();
    let footer = win(p.agency);
    let w = Font::Regular.width(&footer, 9.0);
    page.content.set_font(Font::Regular.name(), 9.0);
    page.content.next_line((PAGE_W - w) / 2.0, MARGIN - 24.0);
    page.content.show(Str(&footer));
    page.content.end_text();
    if page.y < MARGIN - 10.0 {
        return Err("the poster's text does not fit one page".into());
    }

    let raw = page.content.finish();
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut z, &raw).map_err(|e| e.to_string())?;
    let packed = z.finish().map_err(|e| e.to_string())?;

    let (catalog, tree, page_id, regular, bold, contents, info) = (
        Ref::new(1),
        Ref::new(2),
        Ref::new(3),
        Ref::new(4),
        Ref::new(5),
        Ref::new(6),
        Ref::new(7),
    );
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page_id]).count(1);
    let mut pg = pdf.page(page_id);
    pg.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
    pg.parent(tree);
    pg.contents(contents);
    pg.resources()
        .fonts()
        .pair(Font::Regular.name(), regular)
        .pair(Font::Bold.name(), bold);
    pg.finish();
    pdf.type1_font(regular)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.stream(contents, &packed).filter(Filter::FlateDecode);
    pdf.document_info(info)
        .title(TextStr("Berani: poster relawan / volunteer poster"))
        .producer(TextStr("berani-server"));
    Ok(pdf.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_winansi_and_wraps_within_the_page() {
        assert_eq!(
            win("a·b—c é ☎"),
            vec![b'a', 0xb7, b'b', 0x97, b'c', b' ', 0xe9, b' ', b'?']
        );
        for (id, en) in HOW {
            for (text, size) in [(id, 12.0), (en, 9.5)] {
                let lines = wrap(text, Font::Regular, size, PAGE_W - 2.0 * MARGIN);
                assert!(!lines.is_empty(), "{text}");
                for line in lines {
                    assert!(Font::Regular.width(&line, size) <= PAGE_W - 2.0 * MARGIN);
                }
            }
        }
        assert_eq!(
            link("https://lapor.example.go.id/", "K7M2QDV"),
            "https://lapor.example.go.id/?v=K7M2QDV"
        );
    }
}
