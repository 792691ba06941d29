//! The fixed choices of a report as FFI enums, and their Indonesian and English labels.
//!
//! Each enum mirrors one `berani_core::model` choice variant for variant (the conversions are
//! exhaustive matches, so a new core value fails to compile here until it is added). The UI
//! gets the labels from the functions at the end (`categories()`, `victim_sexes()`, …), in
//! display order, so no label is ever written twice; `report_fields()` does the same for the
//! fields themselves.

use berani_core::model::{self as core, Choice};

/// Defines the two-way conversions between an FFI enum and its core twin, variant for variant.
macro_rules! mirror {
    ($ffi:ident <=> $core:ident { $($var:ident),* $(,)? }) => {
        impl From<core::$core> for $ffi {
            fn from(v: core::$core) -> Self {
                match v { $(core::$core::$var => $ffi::$var,)* }
            }
        }
        impl From<$ffi> for core::$core {
            fn from(v: $ffi) -> Self {
                match v { $($ffi::$var => core::$core::$var,)* }
            }
        }
    };
}

/// What happened: the kind of violence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Category {
    /// Kekerasan fisik: physical violence.
    Physical,
    /// Kekerasan psikis: psychological violence.
    Psychological,
    /// Kekerasan seksual: sexual violence.
    Sexual,
    /// Penelantaran: neglect.
    Neglect,
    /// Eksploitasi: exploitation.
    Exploitation,
    /// TPPO: human trafficking.
    Trafficking,
    /// Something else.
    Other,
}
mirror!(Category <=> Category { Physical, Psychological, Sexual, Neglect, Exploitation, Trafficking, Other });

/// Who the victim is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum VictimSex {
    /// An adult woman.
    Woman,
    /// A girl.
    Girl,
    /// A boy.
    Boy,
    /// Someone else.
    Other,
}
mirror!(VictimSex <=> VictimSex { Woman, Girl, Boy, Other });

/// The victim's age band, as SIMFONI-PPA counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum AgeBand {
    /// 0–5 years.
    Age0To5,
    /// 6–12 years.
    Age6To12,
    /// 13–17 years.
    Age13To17,
    /// 18–24 years.
    Age18To24,
    /// 25–44 years.
    Age25To44,
    /// 45–59 years.
    Age45To59,
    /// 60 years or more.
    Age60Plus,
    /// Not known.
    Unknown,
}
mirror!(AgeBand <=> AgeBand {
    Age0To5, Age6To12, Age13To17, Age18To24, Age25To44, Age45To59, Age60Plus, Unknown
});

/// Who is reporting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ReporterRole {
    /// The victim.
    Victim,
    /// Family of the victim.
    Family,
    /// A neighbour.
    Neighbour,
    /// A witness.
    Witness,
    /// A community volunteer.
    Volunteer,
    /// Someone else.
    Other,
}
mirror!(ReporterRole <=> ReporterRole { Victim, Family, Neighbour, Witness, Volunteer, Other });

/// The kind of place where it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum PlaceType {
    /// At home.
    Household,
    /// At school.
    School,
    /// A public place.
    PublicPlace,
    /// A workplace.
    Workplace,
    /// Online, through the internet or a phone.
    Online,
    /// Somewhere else.
    Other,
}
mirror!(PlaceType <=> PlaceType { Household, School, PublicPlace, Workplace, Online, Other });

/// The perpetrator's relationship to the victim (SIMFONI-PPA's categories).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Relationship {
    /// Parent.
    Parent,
    /// Step-parent.
    StepParent,
    /// Husband or wife.
    Spouse,
    /// Boyfriend, girlfriend or former partner.
    Partner,
    /// Another relative.
    Relative,
    /// Neighbour.
    Neighbour,
    /// Friend.
    Friend,
    /// Teacher.
    Teacher,
    /// Employer.
    Employer,
    /// Co-worker.
    CoWorker,
    /// Someone met online.
    OnlineContact,
    /// A stranger.
    Stranger,
    /// Someone else.
    Other,
    /// Not known.
    Unknown,
}
mirror!(Relationship <=> Relationship {
    Parent, StepParent, Spouse, Partner, Relative, Neighbour, Friend, Teacher, Employer,
    CoWorker, OnlineContact, Stranger, Other, Unknown
});

/// How the team may reach the reporter, when the reporter agreed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ContactMethod {
    /// A phone call or SMS.
    Phone,
    /// WhatsApp.
    WhatsApp,
}
mirror!(ContactMethod <=> ContactMethod { Phone, WhatsApp });

/// The kind of an attachment, recognised from the file's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum AttachmentKind {
    /// A photo.
    Photo,
    /// A voice note or other audio.
    Audio,
    /// A video.
    Video,
    /// A document (PDF).
    Document,
}
mirror!(AttachmentKind <=> AttachmentKind { Photo, Audio, Video, Document });

/// A choice's stable key and its labels, for one value of a field.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ChoiceLabel {
    /// The stable key, as in the report document, e.g. `physical`.
    pub key: String,
    /// The label in Indonesian, e.g. `Kekerasan fisik`.
    pub label_id: String,
    /// The label in English, e.g. `Physical violence`.
    pub label_en: String,
}

fn label<T: Choice>(v: T) -> ChoiceLabel {
    ChoiceLabel {
        key: v.key().to_owned(),
        label_id: v.label_id().to_owned(),
        label_en: v.label_en().to_owned(),
    }
}

/// One category with its labels and the plain description shown on its card.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CategoryInfo {
    /// The value to pass to `Reporter.setCategory`.
    pub value: Category,
    /// Key and labels.
    pub label: ChoiceLabel,
    /// A short plain description in Indonesian.
    pub description_id: String,
    /// A short plain description in English.
    pub description_en: String,
}

/// Defines a `…Info { value, label }` record and the function listing every value of one
/// choice with its labels, in display order.
macro_rules! choice_list {
    ($(#[$fm:meta])* fn $fn:ident -> $(#[$rm:meta])* $info:ident($ty:ident)) => {
        $(#[$rm])*
        #[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
        pub struct $info {
            /// The value to pass to the draft's setter.
            pub value: $ty,
            /// Key and labels.
            pub label: ChoiceLabel,
        }

        $(#[$fm])*
        #[uniffi::export]
        pub fn $fn() -> Vec<$info> {
            core::$ty::ALL
                .iter()
                .map(|&v| $info { value: v.into(), label: label(v) })
                .collect()
        }
    };
}

choice_list!(
    /// Every victim value with its labels, in display order.
    fn victim_sexes ->
    /// A victim value with its labels.
    VictimSexInfo(VictimSex)
);
choice_list!(
    /// Every age band with its labels, in display order.
    fn age_bands ->
    /// An age band with its labels.
    AgeBandInfo(AgeBand)
);
choice_list!(
    /// Every reporter role with its labels, in display order.
    fn reporter_roles ->
    /// A reporter role with its labels.
    ReporterRoleInfo(ReporterRole)
);
choice_list!(
    /// Every kind of place with its labels, in display order.
    fn place_types ->
    /// A kind of place with its labels.
    PlaceTypeInfo(PlaceType)
);
choice_list!(
    /// Every perpetrator relationship with its labels, in display order.
    fn relationships ->
    /// A perpetrator relationship with its labels.
    RelationshipInfo(Relationship)
);
choice_list!(
    /// Every contact method with its labels, in display order.
    fn contact_methods ->
    /// A contact method with its labels.
    ContactMethodInfo(ContactMethod)
);
choice_list!(
    /// Every attachment kind with its labels.
    fn attachment_kinds ->
    /// An attachment kind with its labels.
    AttachmentKindInfo(AttachmentKind)
);

/// Every category with its labels and description, in display order.
#[uniffi::export]
pub fn categories() -> Vec<CategoryInfo> {
    core::Category::ALL
        .iter()
        .map(|&c| CategoryInfo {
            value: c.into(),
            label: label(c),
            description_id: c.description_id().to_owned(),
            description_en: c.description_en().to_owned(),
        })
        .collect()
}

/// A report field's own labels (the question, not its answers), e.g. `district`:
/// "Kecamatan" / "District".
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FieldInfo {
    /// The field's machine name, the same as `field` in `InvalidInput` and `FieldProblem`.
    pub key: String,
    /// The label in Indonesian, e.g. `Kecamatan`.
    pub label_id: String,
    /// The label in English, e.g. `District`.
    pub label_en: String,
}

/// Every field of a report with its labels, in the order the form asks for them (the core's
/// own labels, the ones its error messages use).
#[uniffi::export]
pub fn report_fields() -> Vec<FieldInfo> {
    berani_core::Field::REPORT
        .iter()
        .map(|&f| FieldInfo {
            key: f.as_str().to_owned(),
            label_id: f.label_id().to_owned(),
            label_en: f.label_en().to_owned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_choice_is_listed_with_labels_and_round_trips() {
        let cats = categories();
        assert_eq!(cats.len(), 7);
        assert_eq!(cats[0].label.key, "physical");
        assert_eq!(cats[0].label.label_id, "Kekerasan fisik");
        assert!(cats[3].description_id.contains("makan"));
        for c in &cats {
            assert_eq!(Category::from(core::Category::from(c.value)), c.value);
        }
        assert_eq!(age_bands().len(), 8);
        assert_eq!(age_bands()[6].label.key, "60+");
        assert_eq!(relationships().len(), 14);
        assert_eq!(contact_methods()[1].value, ContactMethod::WhatsApp);
        assert_eq!(victim_sexes().len(), 4);
        assert_eq!(reporter_roles().len(), 6);
        assert_eq!(place_types().len(), 6);
        assert_eq!(attachment_kinds().len(), 4);
    }
}
