//! The fixed choices of a report, each with plain labels in Indonesian and English.
//!
//! The values follow the SIMFONI-PPA fields that the agency reports to the ministry; the
//! labels are what the app and the desk show, in words for people who read little.

use serde::{Deserialize, Serialize};

/// A choice with a stable machine key and labels in both languages.
pub trait Choice: Sized + Copy + 'static {
    /// Every value, in display order.
    const ALL: &'static [Self];
    /// The stable key used in documents and on the command line.
    fn key(self) -> &'static str;
    /// The label in Indonesian.
    fn label_id(self) -> &'static str;
    /// The label in English.
    fn label_en(self) -> &'static str;
    /// The value for a key.
    fn from_key(key: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.key() == key)
    }
}

macro_rules! choice {
    ($(#[$meta:meta])* $name:ident { $($(#[$vm:meta])* $var:ident = $key:literal, $id:literal, $en:literal;)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $key)] $var,)*
        }
        impl Choice for $name {
            const ALL: &'static [Self] = &[$($name::$var),*];
            fn key(self) -> &'static str { match self { $($name::$var => $key),* } }
            fn label_id(self) -> &'static str { match self { $($name::$var => $id),* } }
            fn label_en(self) -> &'static str { match self { $($name::$var => $en),* } }
        }
    };
}

choice! {
    /// What happened: the kind of violence.
    Category {
        /// Kekerasan fisik.
        Physical = "physical", "Kekerasan fisik", "Physical violence";
        /// Kekerasan psikis.
        Psychological = "psychological", "Kekerasan psikis", "Psychological violence";
        /// Kekerasan seksual.
        Sexual = "sexual", "Kekerasan seksual", "Sexual violence";
        /// Penelantaran.
        Neglect = "neglect", "Penelantaran", "Neglect";
        /// Eksploitasi.
        Exploitation = "exploitation", "Eksploitasi", "Exploitation";
        /// TPPO (perdagangan orang).
        Trafficking = "trafficking", "Perdagangan orang (TPPO)", "Human trafficking (TPPO)";
        /// Something else.
        Other = "other", "Lainnya", "Something else";
    }
}

impl Category {
    /// A short plain description in Indonesian, for the category cards.
    pub fn description_id(self) -> &'static str {
        match self {
            Category::Physical => "Dipukul, ditendang, dicekik, dibakar, atau dilukai badannya.",
            Category::Psychological => {
                "Diancam, dihina, ditakut-takuti, dikurung, atau dibuat malu terus-menerus."
            }
            Category::Sexual => {
                "Disentuh, dipaksa, atau dilecehkan secara seksual, termasuk lewat ponsel."
            }
            Category::Neglect => "Tidak diberi makan, tidak dirawat, atau ditinggal sendirian.",
            Category::Exploitation => "Dipaksa bekerja, mengemis, atau dimanfaatkan demi uang.",
            Category::Trafficking => {
                "Dibawa, dijual, atau dijanjikan kerja lalu ditahan dan dipaksa."
            }
            Category::Other => "Kekerasan lain yang tidak ada di daftar ini.",
        }
    }

    /// A short plain description in English, for the category cards.
    pub fn description_en(self) -> &'static str {
        match self {
            Category::Physical => "Hit, kicked, choked, burned, or hurt in the body.",
            Category::Psychological => {
                "Threatened, insulted, frightened, locked in, or shamed again and again."
            }
            Category::Sexual => "Touched, forced, or harassed sexually, also through a phone.",
            Category::Neglect => "Not given food or care, or left alone.",
            Category::Exploitation => "Forced to work or beg, or used to make money.",
            Category::Trafficking => "Taken, sold, or promised a job then held and forced.",
            Category::Other => "Another kind of violence not on this list.",
        }
    }
}

choice! {
    /// Who the victim is.
    VictimSex {
        /// An adult woman.
        Woman = "woman", "Perempuan dewasa", "Woman";
        /// A girl.
        Girl = "girl", "Anak perempuan", "Girl";
        /// A boy.
        Boy = "boy", "Anak laki-laki", "Boy";
        /// Someone else.
        Other = "other", "Lainnya", "Other";
    }
}

choice! {
    /// The victim's age band, as SIMFONI-PPA counts them.
    AgeBand {
        /// 0–5 years.
        Age0To5 = "0-5", "0–5 tahun", "0–5 years";
        /// 6–12 years.
        Age6To12 = "6-12", "6–12 tahun", "6–12 years";
        /// 13–17 years.
        Age13To17 = "13-17", "13–17 tahun", "13–17 years";
        /// 18–24 years.
        Age18To24 = "18-24", "18–24 tahun", "18–24 years";
        /// 25–44 years.
        Age25To44 = "25-44", "25–44 tahun", "25–44 years";
        /// 45–59 years.
        Age45To59 = "45-59", "45–59 tahun", "45–59 years";
        /// 60 years or more.
        Age60Plus = "60+", "60 tahun ke atas", "60 years or more";
        /// Not known.
        Unknown = "unknown", "Tidak tahu", "Don't know";
    }
}

choice! {
    /// Who is reporting.
    ReporterRole {
        /// The victim.
        Victim = "victim", "Saya korbannya", "I am the victim";
        /// Family of the victim.
        Family = "family", "Keluarga korban", "Family";
        /// A neighbour.
        Neighbour = "neighbour", "Tetangga", "Neighbour";
        /// A witness.
        Witness = "witness", "Saksi", "Witness";
        /// A community volunteer.
        Volunteer = "volunteer", "Relawan", "Volunteer";
        /// Someone else.
        Other = "other", "Lainnya", "Other";
    }
}

choice! {
    /// The kind of place where it happened.
    PlaceType {
        /// At home.
        Household = "household", "Rumah tangga", "Home";
        /// At school.
        School = "school", "Sekolah", "School";
        /// A public place.
        PublicPlace = "public_place", "Tempat umum", "Public place";
        /// A workplace.
        Workplace = "workplace", "Tempat kerja", "Workplace";
        /// Online.
        Online = "online", "Lewat internet/ponsel", "Online";
        /// Somewhere else.
        Other = "other", "Lainnya", "Other";
    }
}

choice! {
    /// The perpetrator's relationship to the victim (SIMFONI-PPA's categories).
    Relationship {
        /// Parent.
        Parent = "parent", "Orang tua", "Parent";
        /// Step-parent.
        StepParent = "step_parent", "Orang tua tiri", "Step-parent";
        /// Husband or wife.
        Spouse = "spouse", "Suami/istri", "Husband or wife";
        /// Boyfriend, girlfriend or former partner.
        Partner = "partner", "Pacar/mantan", "Partner or ex-partner";
        /// Another relative.
        Relative = "relative", "Keluarga/saudara", "Relative";
        /// Neighbour.
        Neighbour = "neighbour", "Tetangga", "Neighbour";
        /// Friend.
        Friend = "friend", "Teman", "Friend";
        /// Teacher.
        Teacher = "teacher", "Guru", "Teacher";
        /// Employer.
        Employer = "employer", "Majikan/atasan", "Employer";
        /// Co-worker.
        CoWorker = "co_worker", "Rekan kerja", "Co-worker";
        /// Someone met online.
        OnlineContact = "online_contact", "Kenalan di internet", "Someone met online";
        /// A stranger.
        Stranger = "stranger", "Orang tidak dikenal", "Stranger";
        /// Someone else.
        Other = "other", "Lainnya", "Other";
        /// Not known.
        Unknown = "unknown", "Tidak tahu", "Don't know";
    }
}

choice! {
    /// How the team may reach the reporter, when the reporter agreed.
    ContactMethod {
        /// A phone call or SMS.
        Phone = "phone", "Telepon/SMS", "Phone call or SMS";
        /// WhatsApp.
        WhatsApp = "whatsapp", "WhatsApp", "WhatsApp";
    }
}

choice! {
    /// The kind of an attachment.
    AttachmentKind {
        /// A photo.
        Photo = "photo", "Foto", "Photo";
        /// A voice note or other audio.
        Audio = "audio", "Rekaman suara", "Audio";
        /// A video.
        Video = "video", "Video", "Video";
        /// A document (PDF).
        Document = "document", "Dokumen", "Document";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<T: Choice + std::fmt::Debug + PartialEq + Serialize>() {
        for v in T::ALL {
            assert_eq!(T::from_key(v.key()), Some(*v));
            assert_eq!(serde_json::to_value(v).unwrap(), v.key());
            assert!(!v.label_id().is_empty() && !v.label_en().is_empty());
        }
        assert_eq!(T::from_key("no-such-value"), None);
    }

    #[test]
    fn every_choice_has_keys_and_labels() {
        check::<Category>();
        check::<VictimSex>();
        check::<AgeBand>();
        check::<ReporterRole>();
        check::<PlaceType>();
        check::<Relationship>();
        check::<ContactMethod>();
        check::<AttachmentKind>();
        assert_eq!(Category::ALL.len(), 7);
        assert_eq!(AgeBand::ALL.len(), 8);
        assert_eq!(Category::Trafficking.key(), "trafficking");
        assert!(Category::Neglect.description_id().contains("makan"));
    }
}
