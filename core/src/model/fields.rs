//! The fields of a report and the rules for setting them one at a time.
//!
//! Every change is checked as it is made, so the UI can say at once which field is wrong and
//! why; [`super::validate`] adds the checks that need the whole report.

use serde::{Deserialize, Serialize};
use time::Date;
use time::macros::format_description;

use super::choices::{
    AgeBand, Category, ContactMethod, PlaceType, Relationship, ReporterRole, VictimSex,
};
use crate::error::{Field, FieldError, Reason};
use crate::gazetteer::Gazetteer;

/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 20_000;
/// Longest free-text place detail, in characters.
pub const MAX_DETAIL_CHARS: usize = 500;

/// When it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IncidentDate {
    /// On a known day (`YYYY-MM-DD`).
    Exact {
        /// The day.
        date: String,
    },
    /// Some time between two days (`YYYY-MM-DD`), both included.
    Approximate {
        /// The earliest day.
        from: String,
        /// The latest day.
        to: String,
    },
    /// Not known.
    Unknown,
}

/// Where it happened.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// Kecamatan code, e.g. `33.16.05`.
    pub district: Option<String>,
    /// Desa/kelurahan code, e.g. `33.16.05.2001`.
    pub village: Option<String>,
    /// Free-text detail: a landmark, a hamlet (dusun), a street.
    pub detail: Option<String>,
}

/// How the team may contact the reporter. Present only when the reporter agreed to be
/// contacted; it exists only inside the sealed report.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Phone or WhatsApp.
    pub method: ContactMethod,
    /// The number, digits with an optional leading `+`.
    pub number: String,
}

impl std::fmt::Debug for Contact {
    // Never print the number, even in debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Contact")
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

/// The answers of a report, as the reporter gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportFields {
    /// What happened.
    pub category: Option<Category>,
    /// Who the victim is.
    pub victim_sex: Option<VictimSex>,
    /// The victim's age band.
    pub victim_age_band: Option<AgeBand>,
    /// Who is reporting.
    pub reporter_role: Option<ReporterRole>,
    /// Someone is in danger now: the UI shows the emergency numbers first.
    #[serde(default)]
    pub in_danger_now: bool,
    /// When it happened.
    pub incident_date: Option<IncidentDate>,
    /// Where it happened.
    #[serde(default)]
    pub location: Location,
    /// The kind of place.
    pub place_type: Option<PlaceType>,
    /// The perpetrator's relationship to the victim.
    pub perpetrator_relationship: Option<Relationship>,
    /// What happened, in the reporter's words.
    pub description: Option<String>,
    /// Contact, only with consent.
    pub contact: Option<Contact>,
}

/// A new value for one field of a draft. `None` clears the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    /// See [`ReportFields::category`].
    Category(Option<Category>),
    /// See [`ReportFields::victim_sex`].
    VictimSex(Option<VictimSex>),
    /// See [`ReportFields::victim_age_band`].
    VictimAgeBand(Option<AgeBand>),
    /// See [`ReportFields::reporter_role`].
    ReporterRole(Option<ReporterRole>),
    /// See [`ReportFields::in_danger_now`].
    InDangerNow(bool),
    /// See [`ReportFields::incident_date`].
    IncidentDate(Option<IncidentDate>),
    /// The kecamatan code; choosing another district clears a village outside it.
    District(Option<String>),
    /// The desa/kelurahan code; the district must be chosen first.
    Village(Option<String>),
    /// Free-text place detail.
    LocationDetail(Option<String>),
    /// See [`ReportFields::place_type`].
    PlaceType(Option<PlaceType>),
    /// See [`ReportFields::perpetrator_relationship`].
    PerpetratorRelationship(Option<Relationship>),
    /// See [`ReportFields::description`].
    Description(Option<String>),
    /// See [`ReportFields::contact`].
    Contact(Option<Contact>),
}

fn clean_text(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn check_len(field: Field, v: &Option<String>, max: usize) -> Result<(), FieldError> {
    match v {
        Some(s) if s.chars().count() > max => {
            Err(FieldError::with_limit(field, Reason::TooLong, max as u64))
        }
        _ => Ok(()),
    }
}

/// Parses a `YYYY-MM-DD` day.
pub fn parse_day(s: &str) -> Option<Date> {
    Date::parse(s, format_description!("[year]-[month]-[day]")).ok()
}

fn check_day(s: &str, today: Date) -> Result<Date, FieldError> {
    let d = parse_day(s).ok_or(FieldError::new(Field::IncidentDate, Reason::InvalidFormat))?;
    // One day of slack: the phone's clock and time zone may be off.
    if d > today.next_day().unwrap_or(today) {
        return Err(FieldError::new(Field::IncidentDate, Reason::InFuture));
    }
    Ok(d)
}

/// Checks an incident date against `today`.
pub fn check_incident_date(v: &IncidentDate, today: Date) -> Result<(), FieldError> {
    match v {
        IncidentDate::Exact { date } => check_day(date, today).map(|_| ()),
        IncidentDate::Approximate { from, to } => {
            let (f, t) = (check_day(from, today)?, check_day(to, today)?);
            if f > t {
                return Err(FieldError::new(Field::IncidentDate, Reason::InvalidRange));
            }
            Ok(())
        }
        IncidentDate::Unknown => Ok(()),
    }
}

/// Normalises a phone number (spaces, dashes, dots and brackets dropped) and checks its shape.
pub fn normalise_number(number: &str) -> Result<String, FieldError> {
    let n: String = number
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let digits = n.strip_prefix('+').unwrap_or(&n);
    if !(8..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FieldError::new(Field::ContactNumber, Reason::InvalidFormat));
    }
    Ok(n)
}

fn lookup_district(code: &str) -> Result<&'static Gazetteer, FieldError> {
    // A district code `PP.RR.DD` belongs to regency `PP.RR`.
    code.get(..5)
        .and_then(Gazetteer::for_regency)
        .filter(|g| g.district(code).is_some())
        .ok_or(FieldError::new(Field::District, Reason::UnknownCode))
}

impl ReportFields {
    /// Sets one field after checking it. `today` is the reporter's current date.
    pub fn set(&mut self, value: FieldValue, today: Date) -> Result<(), FieldError> {
        match value {
            FieldValue::Category(v) => self.category = v,
            FieldValue::VictimSex(v) => self.victim_sex = v,
            FieldValue::VictimAgeBand(v) => self.victim_age_band = v,
            FieldValue::ReporterRole(v) => self.reporter_role = v,
            FieldValue::InDangerNow(v) => self.in_danger_now = v,
            FieldValue::PlaceType(v) => self.place_type = v,
            FieldValue::PerpetratorRelationship(v) => self.perpetrator_relationship = v,
            FieldValue::IncidentDate(v) => {
                if let Some(d) = &v {
                    check_incident_date(d, today)?;
                }
                self.incident_date = v;
            }
            FieldValue::District(v) => {
                let v = clean_text(v);
                if let Some(code) = &v {
                    lookup_district(code)?;
                }
                let keep_village = match (&v, &self.location.village) {
                    (Some(d), Some(village)) => lookup_district(d)?.village_in_district(d, village),
                    _ => false,
                };
                if !keep_village {
                    self.location.village = None;
                }
                self.location.district = v;
            }
            FieldValue::Village(v) => {
                let v = clean_text(v);
                if let Some(code) = &v {
                    let Some(district) = &self.location.district else {
                        return Err(FieldError::new(Field::Village, Reason::DistrictFirst));
                    };
                    let g = lookup_district(district)?;
                    if g.village(code).is_none() {
                        return Err(FieldError::new(Field::Village, Reason::UnknownCode));
                    }
                    if !g.village_in_district(district, code) {
                        return Err(FieldError::new(Field::Village, Reason::NotInDistrict));
                    }
                }
                self.location.village = v;
            }
            FieldValue::LocationDetail(v) => {
                let v = clean_text(v);
                check_len(Field::LocationDetail, &v, MAX_DETAIL_CHARS)?;
                self.location.detail = v;
            }
            FieldValue::Description(v) => {
                let v = clean_text(v);
                check_len(Field::Description, &v, MAX_DESCRIPTION_CHARS)?;
                self.description = v;
            }
            FieldValue::Contact(v) => {
                self.contact = match v {
                    Some(c) => Some(Contact {
                        method: c.method,
                        number: normalise_number(&c.number)?,
                    }),
                    None => None,
                };
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 28);

    #[test]
    fn sets_and_checks_location() {
        let mut f = ReportFields::default();
        let err = f
            .set(FieldValue::Village(Some("33.16.05.2001".into())), TODAY)
            .unwrap_err();
        assert_eq!(
            (err.field, err.reason),
            (Field::Village, Reason::DistrictFirst)
        );
        let err = f
            .set(FieldValue::District(Some("33.16.99".into())), TODAY)
            .unwrap_err();
        assert_eq!(
            (err.field, err.reason),
            (Field::District, Reason::UnknownCode)
        );
        f.set(FieldValue::District(Some("33.16.05".into())), TODAY)
            .unwrap();
        let cepu = Gazetteer::for_regency("33.16")
            .unwrap()
            .villages("33.16.05")
            .unwrap()[0]
            .code
            .clone();
        f.set(FieldValue::Village(Some(cepu.clone())), TODAY)
            .unwrap();
        assert_eq!(f.location.village.as_deref(), Some(cepu.as_str()));
        let other = Gazetteer::for_regency("33.16")
            .unwrap()
            .villages("33.16.01")
            .unwrap()[0]
            .code
            .clone();
        let err = f.set(FieldValue::Village(Some(other)), TODAY).unwrap_err();
        assert_eq!(err.reason, Reason::NotInDistrict);
        assert_eq!(
            f.location.village.as_deref(),
            Some(cepu.as_str()),
            "unchanged"
        );
        f.set(FieldValue::District(Some("33.16.01".into())), TODAY)
            .unwrap();
        assert_eq!(
            f.location.village, None,
            "village outside the new district is cleared"
        );
    }

    #[test]
    fn checks_text_dates_and_numbers() {
        let mut f = ReportFields::default();
        let long = "a".repeat(MAX_DESCRIPTION_CHARS + 1);
        let err = f
            .set(FieldValue::Description(Some(long)), TODAY)
            .unwrap_err();
        assert_eq!((err.reason, err.limit), (Reason::TooLong, Some(20_000)));
        f.set(FieldValue::Description(Some("  ada  ".into())), TODAY)
            .unwrap();
        assert_eq!(f.description.as_deref(), Some("ada"));
        f.set(FieldValue::Description(Some("   ".into())), TODAY)
            .unwrap();
        assert_eq!(f.description, None);

        let future = IncidentDate::Exact {
            date: "2027-01-01".into(),
        };
        let err = f
            .set(FieldValue::IncidentDate(Some(future)), TODAY)
            .unwrap_err();
        assert_eq!(err.reason, Reason::InFuture);
        let bad = IncidentDate::Exact {
            date: "28/11/2026".into(),
        };
        assert_eq!(
            f.set(FieldValue::IncidentDate(Some(bad)), TODAY)
                .unwrap_err()
                .reason,
            Reason::InvalidFormat
        );
        let range = IncidentDate::Approximate {
            from: "2026-11-20".into(),
            to: "2026-11-01".into(),
        };
        assert_eq!(
            f.set(FieldValue::IncidentDate(Some(range)), TODAY)
                .unwrap_err()
                .reason,
            Reason::InvalidRange
        );

        let c = Contact {
            method: ContactMethod::WhatsApp,
            number: "0812-3456-7890".into(),
        };
        f.set(FieldValue::Contact(Some(c)), TODAY).unwrap();
        assert_eq!(f.contact.as_ref().unwrap().number, "081234567890");
        assert!(
            !format!("{:?}", f.contact).contains("0812"),
            "number hidden in Debug"
        );
        let c = Contact {
            method: ContactMethod::Phone,
            number: "call me".into(),
        };
        let err = f.set(FieldValue::Contact(Some(c)), TODAY).unwrap_err();
        assert_eq!(
            (err.field, err.reason),
            (Field::ContactNumber, Reason::InvalidFormat)
        );
    }
}
