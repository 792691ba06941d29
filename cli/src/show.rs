//! Plain-text views of drafts, the outbox and the profile, for a terminal.

use berani_core::model::{Choice, Draft, IncidentDate};
use berani_core::outbox::OutboxReport;
use berani_core::profile::{AgencyProfile, ProfileKey};
use berani_core::upload::read_receipt;

fn label<T: Choice>(v: Option<T>) -> String {
    v.map_or("-".into(), |v| {
        format!("{} ({} / {})", v.key(), v.label_id(), v.label_en())
    })
}

/// A timestamp as RFC 3339.
pub fn time(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

/// Human-readable size.
pub fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        b if b >= 1_000 => format!("{:.1} KB", b as f64 / 1e3),
        b => format!("{b} B"),
    }
}

/// A draft, field by field.
pub fn draft(d: &Draft) -> String {
    let f = &d.fields;
    let when = match &f.incident_date {
        None => "-".to_string(),
        Some(IncidentDate::Exact { date }) => date.clone(),
        Some(IncidentDate::Approximate { from, to }) => format!("between {from} and {to}"),
        Some(IncidentDate::Unknown) => "unknown".into(),
    };
    let mut out = format!(
        "draft {}\ncreated: {}\nupdated: {}\n",
        d.id,
        time(d.created_at),
        time(d.updated_at)
    );
    let lines = [
        ("category", label(f.category)),
        ("victim", label(f.victim_sex)),
        ("age band", label(f.victim_age_band)),
        ("reporter", label(f.reporter_role)),
        (
            "in danger now",
            if f.in_danger_now { "YES" } else { "no" }.into(),
        ),
        ("date", when),
        (
            "district",
            f.location.district.clone().unwrap_or("-".into()),
        ),
        ("village", f.location.village.clone().unwrap_or("-".into())),
        (
            "place detail",
            f.location.detail.clone().unwrap_or("-".into()),
        ),
        ("place type", label(f.place_type)),
        ("perpetrator", label(f.perpetrator_relationship)),
        ("description", f.description.clone().unwrap_or("-".into())),
        (
            "contact",
            f.contact.as_ref().map_or("anonymous".into(), |c| {
                format!("{} {}", c.method.key(), c.number)
            }),
        ),
    ];
    for (k, v) in lines {
        out.push_str(&format!("{k}: {v}\n"));
    }
    out.push_str(&format!("attachments: {}\n", d.attachments.len()));
    for a in &d.attachments {
        out.push_str(&format!(
            "  {} {} {} {}\n",
            a.id,
            a.kind.key(),
            a.mime,
            size(a.size)
        ));
    }
    out
}

/// One line per draft.
pub fn draft_line(d: &Draft) -> String {
    format!(
        "{}  {}  {}  {} attachment(s)",
        d.id,
        time(d.updated_at),
        d.fields.category.map_or("-", |c| c.key()),
        d.attachments.len()
    )
}

/// The outbox, with progress per part and each receipt, checked against `receipt_key`
/// (the installed profile's).
pub fn outbox(reports: &[OutboxReport], receipt_key: Option<&ProfileKey>) -> String {
    if reports.is_empty() {
        return "outbox is empty\n".into();
    }
    let mut out = String::new();
    for r in reports {
        out.push_str(&format!(
            "{}  {}  {}%  queued {}\n",
            r.id,
            r.state.key(),
            r.percent(),
            time(r.queued_at)
        ));
        if r.carried {
            out.push_str("  Titipan relawan — carried for someone\n");
        }
        for p in &r.parts {
            out.push_str(&format!(
                "  part {} {:<10} {:>10}  sent {:>10}{}\n",
                p.idx,
                p.kind.key(),
                size(p.size),
                size(if p.done { p.size } else { p.sent }),
                if p.done { "  done" } else { "" }
            ));
        }
        if let Some(f) = r.failure {
            out.push_str(&format!("  {} / {}\n", f.message_id(), f.message_en()));
        }
        if let Some(rc) = &r.receipt {
            out.push_str(&receipt(rc, receipt_key));
        }
    }
    out
}

/// A kept receipt: when the server received the report and what it holds, part by part.
fn receipt(signed: &str, key: Option<&ProfileKey>) -> String {
    let Ok(read) = read_receipt(signed.as_bytes(), key) else {
        return "  receipt: does not verify with the profile's receipt key — tanda terima tidak sah\n"
            .into();
    };
    let how = if read.verified {
        "signed by the intake server — tanda terima sah"
    } else {
        "not verified: the profile has no receipt key — belum terverifikasi"
    };
    let mut out = format!(
        "  receipt: {how}\n  received: {}\n",
        time(read.receipt.received_at)
    );
    for p in &read.receipt.parts {
        out.push_str(&format!(
            "    part {} {:>10}  sha256 {}\n",
            p.part,
            size(p.size),
            p.sha256
        ));
    }
    out
}

/// The profile's public facts.
pub fn profile(p: &AgencyProfile) -> String {
    let mut out = format!(
        "agency: {}\nregency: {}\nversion: {}\nintake: {}\nexpires: {}\nmax attachment: {}\n",
        p.agency_name,
        p.regency_code,
        p.version,
        p.intake_url,
        time(p.expires_at),
        size(p.max_attachment_bytes)
    );
    for r in &p.recipients {
        out.push_str(&format!("recipient: {r}\n"));
    }
    for h in &p.hotlines {
        out.push_str(&format!("hotline: {} {}", h.name, h.number));
        if let Some(w) = &h.whatsapp {
            out.push_str(&format!(" (WhatsApp {w})"));
        }
        out.push('\n');
    }
    out
}

/// A follow-up thread: the status in plain words, then each message.
pub fn thread(t: &berani_core::followup::Thread) -> String {
    use berani_core::followup::Sender;
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "report {}", t.report_id);
    let _ = writeln!(
        out,
        "status: {} / {}",
        t.status.label_id(),
        t.status.label_en()
    );
    if t.messages.is_empty() {
        let _ = writeln!(out, "no messages yet — belum ada pesan");
    }
    for m in &t.messages {
        let who = match m.from {
            Sender::Team => "team / petugas",
            Sender::Reporter => "you / anda",
        };
        let when =
            m.at.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
        let state = if m.sent {
            ""
        } else {
            " (queued — menunggu dikirim)"
        };
        let _ = writeln!(out, "[{when}] {who}{state}:");
        match &m.text {
            Some(text) => {
                for line in text.lines() {
                    let _ = writeln!(out, "  {line}");
                }
            }
            None => {
                let _ = writeln!(
                    out,
                    "  (sent from another phone; only the agency can read it — \
                     dikirim dari ponsel lain; hanya lembaga yang bisa membacanya)"
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use berani_core::jws::SigningKey;
    use berani_core::outbox::{PartKind, PartStatus, ReportState};
    use berani_core::protocol::{Receipt, ReceiptPart};
    use time::OffsetDateTime;

    #[test]
    fn receipts_show_when_they_arrived_and_every_part_hash() {
        let key = SigningKey::generate();
        let sha = "ab".repeat(32);
        let received = time::macros::datetime!(2026-11-28 17:00:05 UTC);
        let signed = Receipt {
            schema_version: 1,
            report: "0".repeat(32),
            received_at: received,
            parts: vec![ReceiptPart {
                part: 0,
                size: 955,
                sha256: sha.clone(),
            }],
        }
        .sign(&key);
        let report = OutboxReport {
            id: "0".repeat(32),
            state: ReportState::Delivered,
            queued_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
            category: None,
            drafted_at: OffsetDateTime::UNIX_EPOCH,
            carried: false,
            parts: vec![PartStatus {
                idx: 0,
                kind: PartKind::Report,
                size: 955,
                sha256: sha.clone(),
                sent: 955,
                done: true,
                upload_url: None,
            }],
            failure: None,
            receipt: Some(String::from_utf8(signed).unwrap()),
        };
        let shown = outbox(std::slice::from_ref(&report), Some(&key.public()));
        assert!(
            shown.contains("receipt: signed by the intake server"),
            "{shown}"
        );
        assert!(shown.contains("received: 2026-11-28T17:00:05Z"), "{shown}");
        assert!(
            shown.contains(&format!("part 0      955 B  sha256 {sha}")),
            "{shown}"
        );
        assert!(!shown.contains("payload"), "no raw JWS: {shown}");
        let unverified = outbox(std::slice::from_ref(&report), None);
        assert!(unverified.contains("not verified"), "{unverified}");
        let other = SigningKey::generate().public();
        let refused = outbox(std::slice::from_ref(&report), Some(&other));
        assert!(refused.contains("does not verify"), "{refused}");
    }
}
