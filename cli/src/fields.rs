//! Draft field flags shared by `draft new` and `draft edit`, turned into core field updates.

use std::path::PathBuf;

use berani_core::NewAttachment;
use berani_core::model::{
    AgeBand, Category, Choice, Contact, ContactMethod, FieldValue, IncidentDate, PlaceType,
    Relationship, ReporterRole, VictimSex,
};
use clap::Args;

/// Parses a choice key, listing the valid keys when it is wrong.
fn choice<T: Choice>(s: &str) -> Result<T, String> {
    T::from_key(s).ok_or_else(|| {
        let keys: Vec<_> = T::ALL.iter().map(|v| v.key()).collect();
        format!("unknown value (choose one of: {})", keys.join(", "))
    })
}

/// The report fields that can be given on the command line.
#[derive(Args, Debug, Default)]
pub struct FieldArgs {
    /// What happened: physical, psychological, sexual, neglect, exploitation, trafficking, other.
    #[arg(long, value_parser = choice::<Category>)]
    pub category: Option<Category>,
    /// The victim: woman, girl, boy, other.
    #[arg(long, value_parser = choice::<VictimSex>)]
    pub victim: Option<VictimSex>,
    /// The victim's age band: 0-5, 6-12, 13-17, 18-24, 25-44, 45-59, 60+, unknown.
    #[arg(long, value_parser = choice::<AgeBand>)]
    pub age_band: Option<AgeBand>,
    /// Who is reporting: victim, family, neighbour, witness, volunteer, other.
    #[arg(long, value_parser = choice::<ReporterRole>)]
    pub role: Option<ReporterRole>,
    /// Someone is in danger now.
    #[arg(long)]
    pub in_danger: bool,
    /// Nobody is in danger now (clears --in-danger).
    #[arg(long, conflicts_with = "in_danger")]
    pub not_in_danger: bool,
    /// The day it happened (YYYY-MM-DD).
    #[arg(long, conflicts_with_all = ["date_from", "date_unknown"])]
    pub date: Option<String>,
    /// Earliest day it may have happened (YYYY-MM-DD); use with --date-to.
    #[arg(long, requires = "date_to")]
    pub date_from: Option<String>,
    /// Latest day it may have happened (YYYY-MM-DD); use with --date-from.
    #[arg(long, requires = "date_from")]
    pub date_to: Option<String>,
    /// The date is not known.
    #[arg(long)]
    pub date_unknown: bool,
    /// Kecamatan code, e.g. 33.16.05.
    #[arg(long)]
    pub district: Option<String>,
    /// Desa/kelurahan code, e.g. 33.16.05.2001.
    #[arg(long)]
    pub village: Option<String>,
    /// Free-text detail of the place.
    #[arg(long)]
    pub detail: Option<String>,
    /// Kind of place: household, school, public_place, workplace, online, other.
    #[arg(long, value_parser = choice::<PlaceType>)]
    pub place: Option<PlaceType>,
    /// The perpetrator's relationship to the victim.
    #[arg(long, value_parser = choice::<Relationship>)]
    pub relationship: Option<Relationship>,
    /// What happened, in words.
    #[arg(long)]
    pub text: Option<String>,
    /// Agree to be contacted by phone at this number.
    #[arg(long, conflicts_with = "contact_whatsapp")]
    pub contact_phone: Option<String>,
    /// Agree to be contacted on WhatsApp at this number.
    #[arg(long)]
    pub contact_whatsapp: Option<String>,
    /// Withdraw consent to be contacted (removes the number).
    #[arg(long, conflicts_with_all = ["contact_phone", "contact_whatsapp"])]
    pub no_contact: bool,
    /// Attach a photo, video, audio or PDF (repeatable).
    #[arg(long = "attach", value_name = "PATH")]
    pub attach: Vec<PathBuf>,
    /// Attach a recording as the report's voice note (repeatable).
    #[arg(long = "voice-note", value_name = "PATH")]
    pub voice_note: Vec<PathBuf>,
    /// Attach a file with its metadata (GPS position, phone model, serial number) kept as
    /// evidence (repeatable); every other attachment is stripped. Read the warning first.
    #[arg(long = "keep-metadata", value_name = "PATH")]
    pub keep_metadata: Vec<PathBuf>,
}

impl FieldArgs {
    /// The field updates these flags ask for, in wizard order.
    pub fn updates(&self) -> Vec<FieldValue> {
        let mut v = Vec::new();
        if let Some(c) = self.category {
            v.push(FieldValue::Category(Some(c)));
        }
        if let Some(x) = self.victim {
            v.push(FieldValue::VictimSex(Some(x)));
        }
        if let Some(x) = self.age_band {
            v.push(FieldValue::VictimAgeBand(Some(x)));
        }
        if let Some(x) = self.role {
            v.push(FieldValue::ReporterRole(Some(x)));
        }
        if self.in_danger || self.not_in_danger {
            v.push(FieldValue::InDangerNow(self.in_danger));
        }
        if let Some(d) = &self.date {
            v.push(FieldValue::IncidentDate(Some(IncidentDate::Exact {
                date: d.clone(),
            })));
        }
        if let (Some(from), Some(to)) = (&self.date_from, &self.date_to) {
            v.push(FieldValue::IncidentDate(Some(IncidentDate::Approximate {
                from: from.clone(),
                to: to.clone(),
            })));
        }
        if self.date_unknown {
            v.push(FieldValue::IncidentDate(Some(IncidentDate::Unknown)));
        }
        if let Some(d) = &self.district {
            v.push(FieldValue::District(Some(d.clone())));
        }
        if let Some(d) = &self.village {
            v.push(FieldValue::Village(Some(d.clone())));
        }
        if let Some(d) = &self.detail {
            v.push(FieldValue::LocationDetail(Some(d.clone())));
        }
        if let Some(x) = self.place {
            v.push(FieldValue::PlaceType(Some(x)));
        }
        if let Some(x) = self.relationship {
            v.push(FieldValue::PerpetratorRelationship(Some(x)));
        }
        if let Some(t) = &self.text {
            v.push(FieldValue::Description(Some(t.clone())));
        }
        let contact = match (&self.contact_phone, &self.contact_whatsapp) {
            (Some(n), _) => Some((ContactMethod::Phone, n)),
            (_, Some(n)) => Some((ContactMethod::WhatsApp, n)),
            _ => None,
        };
        if let Some((method, number)) = contact {
            v.push(FieldValue::Contact(Some(Contact {
                method,
                number: number.clone(),
            })));
        }
        if self.no_contact {
            v.push(FieldValue::Contact(None));
        }
        v
    }

    /// The files to attach, in the order they are attached, each with the flag it came from.
    pub fn files(&self) -> Vec<(&'static str, NewAttachment)> {
        let file = |flag, path: &PathBuf, voice_note, keep_metadata| {
            let path = path.clone();
            (
                flag,
                NewAttachment {
                    path,
                    voice_note,
                    keep_metadata,
                },
            )
        };
        let attach = self
            .attach
            .iter()
            .map(|p| file("--attach", p, false, false));
        let voice = self
            .voice_note
            .iter()
            .map(|p| file("--voice-note", p, true, false));
        let keep = self
            .keep_metadata
            .iter()
            .map(|p| file("--keep-metadata", p, false, true));
        attach.chain(voice).chain(keep).collect()
    }
}
