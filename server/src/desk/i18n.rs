//! The desk's two languages: Bahasa Indonesia first, English when chosen.
//!
//! Every text is written at its call site as a pair, `lang.t("Indonesia", "English")`, so
//! that neither language can be forgotten for a new screen. The choice lives in a `lang`
//! cookie (a preference, not a secret) and defaults to Indonesian.

use berani_core::model::choices::Choice;

/// The language a page is shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Bahasa Indonesia (the default).
    #[default]
    Id,
    /// English.
    En,
}

impl Lang {
    /// The cookie and `<html lang>` value.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::En => "en",
        }
    }

    /// The language for a cookie value; Indonesian for anything else.
    pub fn from_code(code: &str) -> Self {
        if code == "en" { Lang::En } else { Lang::Id }
    }

    /// The other language (for the switch link).
    pub fn other(self) -> Self {
        match self {
            Lang::Id => Lang::En,
            Lang::En => Lang::Id,
        }
    }

    /// Picks the text in this language.
    pub fn t(self, id: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Id => id,
            Lang::En => en,
        }
    }

    /// The label of a report choice in this language.
    pub fn choice<C: Choice>(self, c: C) -> &'static str {
        match self {
            Lang::Id => c.label_id(),
            Lang::En => c.label_en(),
        }
    }
}
