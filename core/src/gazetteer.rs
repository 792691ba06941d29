//! Indonesia's administrative areas (regency → district → village), shipped inside the app.
//!
//! A report has to say where something happened. Free text would be misspelt, ambiguous and
//! sometimes identifying, and looking places up on a server would tell the network that a report
//! is being written. So the app carries the official Kemendagri codes and names of the regencies
//! it serves: the reporter picks a district and village offline, and a report names the place by
//! code rather than by free text. The data is a slice of `idn-area-data` under the ODbL (see
//! `core/data/gazetteer/README.md`): one CSV per regency, embedded at build time and parsed on
//! first use.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Regencies shipped in this build, as (regency code, its CSV slice), in code order.
///
/// `core/build.rs` writes this list from the files `core/data/gazetteer/<code>.csv`, so
/// supporting another regency is a data change only: generate its file with
/// `core/data/gazetteer/extract.sh` and commit it.
const REGENCIES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/gazetteer_regencies.rs"));

/// The regency whose places are offered before any agency profile is installed: Kabupaten
/// Blora. See [`crate::Reporter::gazetteer`].
pub const DEFAULT_REGENCY: &str = "33.16";

/// More results than fit on a phone screen are noise; the reporter types another letter instead.
const MAX_RESULTS: usize = 50;

// One cell per registry entry, so a build shipping many regencies only parses those in use.
static LOADED: [OnceLock<Gazetteer>; REGENCIES.len()] =
    [const { OnceLock::new() }; REGENCIES.len()];

/// One administrative area: its Kemendagri code (e.g. `33.16.05`) and its official name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Area {
    /// Dot-separated Kemendagri code: `33.16` regency, `33.16.05` district,
    /// `33.16.05.1014` village.
    pub code: String,
    /// The name as published in the source data, e.g. `Cepu`.
    pub name: String,
}

/// Which level of the hierarchy a search result is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AreaLevel {
    /// A kecamatan.
    District,
    /// A desa or kelurahan.
    Village,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AreaMatch {
    /// Whether `area` is a district or a village.
    pub level: AreaLevel,
    /// The matching area.
    pub area: Area,
    /// The district a village belongs to (None for districts): many village names repeat
    /// across districts, so the reporter needs it to tell them apart.
    pub district: Option<Area>,
}

/// The districts and villages of one regency.
#[derive(Debug)]
pub struct Gazetteer {
    regency: Area,
    /// In code order.
    districts: Vec<Area>,
    /// `villages[i]` belong to `districts[i]`, in code order.
    villages: Vec<Vec<Area>>,
    district_index: HashMap<String, usize>,
    /// Village code → (district index, index within that district).
    village_index: HashMap<String, (usize, usize)>,
    /// Sorted in result order, so a search is a filter that can stop at the cap.
    district_keys: Vec<SearchKey>,
    village_keys: Vec<SearchKey>,
}

/// A name normalised once at load time, pointing back at its area.
#[derive(Debug)]
struct SearchKey {
    key: String,
    district: usize,
    /// Index within the district's villages; None for the district itself.
    village: Option<usize>,
}

impl Gazetteer {
    /// The gazetteer of one regency, e.g. "33.16"; None if the app does not ship it.
    ///
    /// # Panics
    ///
    /// On first use of a regency whose embedded data is malformed: that is a build defect,
    /// which the unit tests catch by loading every shipped regency.
    pub fn for_regency(code: &str) -> Option<&'static Gazetteer> {
        let index = REGENCIES.iter().position(|(c, _)| *c == code)?;
        let (code, csv) = REGENCIES[index];
        Some(LOADED[index].get_or_init(|| load(code, csv)))
    }

    /// Regency codes shipped in this build.
    pub fn regencies() -> Vec<&'static str> {
        REGENCIES.iter().map(|(code, _)| *code).collect()
    }

    /// The regency itself, e.g. `33.16` Kabupaten Blora.
    pub fn regency(&self) -> &Area {
        &self.regency
    }

    /// All districts of the regency, in code order.
    pub fn districts(&self) -> &[Area] {
        &self.districts
    }

    /// One district by code, None if it is not in this regency.
    pub fn district(&self, code: &str) -> Option<&Area> {
        self.district_index.get(code).map(|&d| &self.districts[d])
    }

    /// Villages of one district, None if the district is unknown.
    pub fn villages(&self, district_code: &str) -> Option<&[Area]> {
        self.district_index
            .get(district_code)
            .map(|&d| self.villages[d].as_slice())
    }

    /// One village by code, None if it is not in this regency.
    pub fn village(&self, code: &str) -> Option<&Area> {
        self.village_index
            .get(code)
            .map(|&(d, v)| &self.villages[d][v])
    }

    /// True when `village_code` is a village of `district_code`.
    pub fn village_in_district(&self, district_code: &str, village_code: &str) -> bool {
        self.village_index
            .get(village_code)
            .is_some_and(|&(d, _)| self.districts[d].code == district_code)
    }

    /// Prefix search over district and village names of this regency.
    ///
    /// Case, diacritics and punctuation are ignored. A name matches when the query is a prefix
    /// of the whole name or of one of its words. Districts come first, then villages, each sorted
    /// by name (then code); at most 50 results. A blank query matches nothing.
    pub fn search(&self, query: &str) -> Vec<AreaMatch> {
        let query = normalise(query);
        if query.is_empty() {
            return Vec::new();
        }
        self.district_keys
            .iter()
            .chain(&self.village_keys)
            .filter(|k| prefix_match(&k.key, &query))
            .take(MAX_RESULTS)
            .map(|k| {
                let district = &self.districts[k.district];
                match k.village {
                    None => AreaMatch {
                        level: AreaLevel::District,
                        area: district.clone(),
                        district: None,
                    },
                    Some(v) => AreaMatch {
                        level: AreaLevel::Village,
                        area: self.villages[k.district][v].clone(),
                        district: Some(district.clone()),
                    },
                }
            })
            .collect()
    }
}

fn load(code: &str, csv: &str) -> Gazetteer {
    parse(code, csv)
        .unwrap_or_else(|e| panic!("the embedded gazetteer of regency {code} is malformed: {e}"))
}

/// Folds a name or query to the form search compares: lowercase, without diacritics, with every
/// run of non-alphanumeric characters reduced to one space and no space at either end.
fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut gap = false;
    // Lowercasing first: some capitals lowercase to a letter plus a combining mark (İ → i̇),
    // which the NFD step must still see in order to drop it.
    for c in text
        .chars()
        .flat_map(char::to_lowercase)
        .nfd()
        .filter(|&c| !is_combining_mark(c))
    {
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.push(c);
        } else {
            gap = true;
        }
    }
    out
}

/// Whether `query` starts the key or one of its words; both are already normalised, so words
/// are separated by exactly one space.
fn prefix_match(key: &str, query: &str) -> bool {
    key.starts_with(query)
        || key
            .match_indices(' ')
            .any(|(i, _)| key[i + 1..].starts_with(query))
}

/// Whether `code` is `parent` followed by one more dot-separated group of digits.
fn is_child(code: &str, parent: &str) -> bool {
    code.strip_prefix(parent)
        .and_then(|rest| rest.strip_prefix('.'))
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()))
}

/// Builds a gazetteer from one regency's CSV slice (see `extract.sh` for the layout).
///
/// The data is trusted, but a bad regeneration or hand edit should fail loudly and precisely
/// rather than ship a regency with missing or misfiled villages.
fn parse(regency_code: &str, csv: &str) -> Result<Gazetteer, String> {
    let mut records = csv_records(csv)?.into_iter();

    let (_, header) = records.next().ok_or("the file is empty")?;
    if header != ["code", "parent_code", "name"] {
        return Err(format!(
            "line 1: expected the header `code,parent_code,name`, found `{}`",
            header.join(",")
        ));
    }

    let (line, record) = records.next().ok_or("no row for the regency itself")?;
    let [code, parent, name] = fields(line, record)?;
    if code != regency_code {
        return Err(format!(
            "line {line}: the first row must be regency {regency_code}, found `{code}`"
        ));
    }
    if !is_child(&code, &parent) {
        return Err(format!(
            "line {line}: regency {code} cannot belong to province `{parent}`"
        ));
    }
    let regency = Area { code, name };

    let mut districts = Vec::new();
    let mut villages = Vec::new();
    for (line, record) in records {
        let [code, parent, name] = fields(line, record)?;
        let area = Area { code, name };
        if parent == regency.code {
            if !is_child(&area.code, &parent) {
                return Err(format!(
                    "line {line}: district code `{}` does not extend {parent}",
                    area.code
                ));
            }
            districts.push(area);
        } else if is_child(&parent, &regency.code) && is_child(&area.code, &parent) {
            villages.push((line, parent, area));
        } else {
            return Err(format!(
                "line {line}: `{}` (parent `{parent}`) is neither a district nor a village of {}",
                area.code, regency.code
            ));
        }
    }
    if districts.is_empty() {
        return Err("no districts".into());
    }

    // Codes are fixed-width digit groups, so string order is code order.
    districts.sort_by(|a, b| a.code.cmp(&b.code));
    let mut district_index = HashMap::with_capacity(districts.len());
    for (d, district) in districts.iter().enumerate() {
        if district_index.insert(district.code.clone(), d).is_some() {
            return Err(format!("district {} is listed twice", district.code));
        }
    }

    let mut by_district = vec![Vec::new(); districts.len()];
    for (line, parent, village) in villages {
        let &d = district_index.get(&parent).ok_or_else(|| {
            format!(
                "line {line}: village {} belongs to district {parent}, which is not listed",
                village.code
            )
        })?;
        by_district[d].push(village);
    }
    let mut village_index = HashMap::new();
    for (d, villages) in by_district.iter_mut().enumerate() {
        villages.sort_by(|a, b| a.code.cmp(&b.code));
        for (v, village) in villages.iter().enumerate() {
            if village_index.insert(village.code.clone(), (d, v)).is_some() {
                return Err(format!("village {} is listed twice", village.code));
            }
        }
    }

    let mut district_keys: Vec<SearchKey> = districts
        .iter()
        .enumerate()
        .map(|(d, district)| SearchKey {
            key: normalise(&district.name),
            district: d,
            village: None,
        })
        .collect();
    let mut village_keys: Vec<SearchKey> = by_district
        .iter()
        .enumerate()
        .flat_map(|(d, villages)| {
            villages
                .iter()
                .enumerate()
                .map(move |(v, village)| SearchKey {
                    key: normalise(&village.name),
                    district: d,
                    village: Some(v),
                })
        })
        .collect();
    // A name that normalises to nothing could never be found, and is surely a data error.
    if let Some(k) = district_keys
        .iter()
        .chain(&village_keys)
        .find(|k| k.key.is_empty())
    {
        let area = match k.village {
            None => &districts[k.district],
            Some(v) => &by_district[k.district][v],
        };
        return Err(format!(
            "{} has no searchable name (`{}`)",
            area.code, area.name
        ));
    }
    // Names repeat (several villages called Sumberejo), so the code breaks ties to keep the
    // result order stable.
    let code_of = |k: &SearchKey| match k.village {
        None => &districts[k.district].code,
        Some(v) => &by_district[k.district][v].code,
    };
    district_keys.sort_by(|a, b| a.key.cmp(&b.key).then_with(|| code_of(a).cmp(code_of(b))));
    village_keys.sort_by(|a, b| a.key.cmp(&b.key).then_with(|| code_of(a).cmp(code_of(b))));

    Ok(Gazetteer {
        regency,
        districts,
        villages: by_district,
        district_index,
        village_index,
        district_keys,
        village_keys,
    })
}

fn fields(line: usize, record: Vec<String>) -> Result<[String; 3], String> {
    let [code, parent, name] = <[String; 3]>::try_from(record).map_err(|r| {
        format!(
            "line {line}: expected 3 fields (code,parent_code,name), found {}",
            r.len()
        )
    })?;
    if name.trim().is_empty() {
        return Err(format!("line {line}: `{code}` has an empty name"));
    }
    Ok([code, parent, name])
}

/// Splits CSV text into records, each with the line it starts on. Follows RFC 4180: a quoted
/// field may hold commas, doubled quotes and line breaks (several source names do, e.g.
/// `"Lubuk Pakam I,II"`); CRLF line ends are accepted because a Windows checkout may convert them.
fn csv_records(text: &str) -> Result<Vec<(usize, Vec<String>)>, String> {
    #[derive(PartialEq)]
    enum State {
        FieldStart,
        Unquoted,
        Quoted,
        AfterQuote,
    }

    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut state = State::FieldStart;
    let mut line = 1;
    let mut record_line = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if state == State::Quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => state = State::AfterQuote,
                c => {
                    if c == '\n' {
                        line += 1;
                    }
                    field.push(c);
                }
            }
            continue;
        }
        match c {
            ',' => {
                record.push(std::mem::take(&mut field));
                state = State::FieldStart;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                records.push((record_line, std::mem::take(&mut record)));
                line += 1;
                record_line = line;
                state = State::FieldStart;
            }
            '"' if state == State::FieldStart => state = State::Quoted,
            '"' => return Err(format!("line {line}: stray quote in an unquoted field")),
            _ if state == State::AfterQuote => {
                return Err(format!("line {line}: text after a closing quote"));
            }
            '\r' => return Err(format!("line {line}: carriage return without a line feed")),
            c => {
                field.push(c);
                state = State::Unquoted;
            }
        }
    }
    if state == State::Quoted {
        return Err(format!("line {record_line}: quoted field is never closed"));
    }
    // A last line without a line break is still a record; an empty tail after one is not.
    if state != State::FieldStart || !record.is_empty() {
        record.push(field);
        records.push((record_line, record));
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blora() -> &'static Gazetteer {
        Gazetteer::for_regency("33.16").expect("Blora is shipped")
    }

    fn names(results: &[AreaMatch]) -> Vec<(&str, AreaLevel, &str)> {
        results
            .iter()
            .map(|m| {
                let district = m.district.as_ref().map_or("", |d| d.name.as_str());
                (m.area.name.as_str(), m.level, district)
            })
            .collect()
    }

    /// The registry is the data folder: one regency per `<code>.csv` file, in code order.
    #[test]
    fn the_registry_holds_exactly_the_csv_files_of_the_data_folder() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/gazetteer");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| !n.starts_with('.'))
            .filter_map(|n| n.strip_suffix(".csv").map(str::to_string))
            .collect();
        files.sort();
        assert!(
            files.iter().any(|f| f == "33.16"),
            "Blora's file: {files:?}"
        );
        assert_eq!(Gazetteer::regencies(), files);
        // Each entry carries its own file.
        for (code, csv) in REGENCIES {
            assert_eq!(
                *csv,
                std::fs::read_to_string(dir.join(format!("{code}.csv"))).unwrap()
            );
        }
    }

    /// A build with a broken data file must fail here, not on a reporter's phone.
    #[test]
    fn every_shipped_regency_loads() {
        for code in Gazetteer::regencies() {
            let g = Gazetteer::for_regency(code).unwrap();
            assert_eq!(g.regency().code, code);
            assert!(!g.districts().is_empty(), "{code} has no districts");
            for d in g.districts() {
                assert!(
                    !g.villages(&d.code).unwrap().is_empty(),
                    "{} is empty",
                    d.code
                );
            }
        }
    }

    #[test]
    fn blora_has_its_districts_and_villages() {
        let g = blora();
        assert_eq!(
            g.regency(),
            &Area {
                code: "33.16".into(),
                name: "Kabupaten Blora".into()
            }
        );
        assert_eq!(g.districts().len(), 16);
        let codes: Vec<String> = (1..=16).map(|n| format!("33.16.{n:02}")).collect();
        let actual: Vec<&str> = g.districts().iter().map(|d| d.code.as_str()).collect();
        assert_eq!(actual, codes);
        assert_eq!(g.districts()[0].name, "Jati");
        assert_eq!(g.districts()[15].name, "Japah");
        assert_eq!(g.district("33.16.05").unwrap().name, "Cepu");
        assert_eq!(g.district("33.16.09").unwrap().name, "Blora");

        let mut total = 0;
        for d in g.districts() {
            let villages = g.villages(&d.code).unwrap();
            for v in villages {
                assert!(
                    v.code.starts_with(&format!("{}.", d.code)),
                    "{} filed under {}",
                    v.code,
                    d.code
                );
                assert_eq!(g.village(&v.code), Some(v));
                assert!(g.village_in_district(&d.code, &v.code));
            }
            assert!(villages.windows(2).all(|w| w[0].code < w[1].code));
            total += villages.len();
        }
        assert_eq!(total, 295);
        assert_eq!(g.villages("33.16.05").unwrap().len(), 17);
        assert_eq!(g.villages("33.16.12").unwrap().len(), 29);
        assert_eq!(
            g.villages("33.16.01").unwrap()[0],
            Area {
                code: "33.16.01.2001".into(),
                name: "Bangkleyan".into()
            }
        );
        assert_eq!(g.village("33.16.05.1014").unwrap().name, "Cepu");
        assert_eq!(g.village("33.16.16.2018").unwrap().name, "Kalinanas");
    }

    #[test]
    fn village_in_district_checks_the_parent() {
        let g = blora();
        assert!(g.village_in_district("33.16.05", "33.16.05.1014"));
        assert!(!g.village_in_district("33.16.04", "33.16.05.1014"));
        // Village Bogorejo lies in Japah, not in the district that shares its name.
        assert_eq!(g.village("33.16.16.2011").unwrap().name, "Bogorejo");
        assert!(g.village_in_district("33.16.16", "33.16.16.2011"));
        assert!(!g.village_in_district("33.16.15", "33.16.16.2011"));
        assert!(!g.village_in_district("33.16.05", "33.16.05.9999"));
        assert!(!g.village_in_district("33.16.99", "33.16.05.1014"));
        assert!(!g.village_in_district("33.16.05", "33.16.05"));
    }

    #[test]
    fn unknown_codes_give_none() {
        // Rembang exists in the source data but is not shipped.
        assert!(Gazetteer::for_regency("33.17").is_none());
        assert!(Gazetteer::for_regency("").is_none());
        assert!(Gazetteer::for_regency("33.16.05").is_none());
        let g = blora();
        assert_eq!(g.district("33.16.17"), None);
        assert_eq!(g.district("33.16"), None);
        assert_eq!(g.district("33.16.05.1014"), None);
        assert_eq!(g.villages("33.16.17"), None);
        assert_eq!(g.villages("33.17.01"), None);
        assert_eq!(g.village("33.16.05.9999"), None);
        assert_eq!(g.village("33.16.05"), None);
    }

    #[test]
    fn search_ignores_case_and_diacritics() {
        let g = blora();
        let cepu = vec![
            ("Cepu", AreaLevel::District, ""),
            ("Cepu", AreaLevel::Village, "Cepu"),
        ];
        for query in ["cepu", "CEPU", "cépu", "ce\u{301}pu", " \tCÉPU  ", "CEP"] {
            let results = g.search(query);
            assert_eq!(names(&results), cepu, "query {query:?}");
        }
        let results = g.search("Cepu");
        assert_eq!(results[0].area.code, "33.16.05");
        assert_eq!(results[1].area.code, "33.16.05.1014");
        assert_eq!(results[1].district.as_ref().unwrap().code, "33.16.05");
    }

    #[test]
    fn search_matches_prefixes_not_infixes() {
        let g = blora();
        assert_eq!(
            names(&g.search("kedung")),
            [
                ("Kedungtuban", AreaLevel::District, ""),
                ("Kedungbacin", AreaLevel::Village, "Todanan"),
                ("Kedungjenar", AreaLevel::Village, "Blora"),
                ("Kedungrejo", AreaLevel::Village, "Tunjungan"),
                ("Kedungringin", AreaLevel::Village, "Tunjungan"),
                ("Kedungsatriyan", AreaLevel::Village, "Ngawen"),
                ("Kedungtuban", AreaLevel::Village, "Kedungtuban"),
                ("Kedungwaru", AreaLevel::Village, "Kunduran"),
                ("Kedungwungu", AreaLevel::Village, "Todanan"),
            ]
        );
        assert!(g.search("tuban").is_empty());
        assert!(g.search("cepuu").is_empty());
        // Same-named villages in different districts are both listed, in code order.
        assert_eq!(
            names(&g.search("bogorejo")),
            [
                ("Bogorejo", AreaLevel::District, ""),
                ("Bogorejo", AreaLevel::Village, "Bogorejo"),
                ("Bogorejo", AreaLevel::Village, "Japah"),
            ]
        );
    }

    // Every Blora name is a single word, so word-prefix matching is shown on a small fixture.
    const FIXTURE: &str = "code,parent_code,name\n\
        99.01,99,Kabupaten Uji\n\
        99.01.01,99.01,Kedungtuban\n\
        99.01.02,99.01,\"Ra\"\"as\"\n\
        99.01.01.2001,99.01.01,Kedungtuban Tengah\n\
        99.01.01.2002,99.01.01,\"Lubuk Pakam I,II\"\n\
        99.01.02.2001,99.01.02,Sumber-Rejo\n\
        99.01.02.2002,99.01.02,Tengahan\n";

    #[test]
    fn search_matches_word_prefixes() {
        let g = parse("99.01", FIXTURE).unwrap();
        assert_eq!(
            names(&g.search("tengah")),
            [
                ("Kedungtuban Tengah", AreaLevel::Village, "Kedungtuban"),
                ("Tengahan", AreaLevel::Village, "Ra\"as"),
            ]
        );
        assert_eq!(
            names(&g.search("KEDUNGTUBAN  teng")),
            [("Kedungtuban Tengah", AreaLevel::Village, "Kedungtuban")]
        );
        assert_eq!(
            names(&g.search("kedung")),
            [
                ("Kedungtuban", AreaLevel::District, ""),
                ("Kedungtuban Tengah", AreaLevel::Village, "Kedungtuban"),
            ]
        );
        assert_eq!(
            names(&g.search("rejo")),
            [("Sumber-Rejo", AreaLevel::Village, "Ra\"as")]
        );
        assert_eq!(
            names(&g.search("ra'as")),
            [("Ra\"as", AreaLevel::District, "")]
        );
        assert_eq!(
            names(&g.search("Pakam I, II")),
            [("Lubuk Pakam I,II", AreaLevel::Village, "Kedungtuban")]
        );
        assert!(g.search("uban").is_empty());
    }

    #[test]
    fn blank_query_finds_nothing() {
        let g = blora();
        for query in ["", " ", "\t\n", "-", " ,.' "] {
            assert!(g.search(query).is_empty(), "query {query:?}");
        }
    }

    #[test]
    fn search_results_are_capped() {
        let g = blora();
        let all_k = g
            .districts()
            .iter()
            .chain(
                g.districts()
                    .iter()
                    .flat_map(|d| g.villages(&d.code).unwrap()),
            )
            .filter(|a| a.name.starts_with('K'))
            .count();
        assert_eq!(all_k, 54);
        let results = g.search("k");
        assert_eq!(results.len(), MAX_RESULTS);
        assert_eq!(
            names(&results[..4]),
            [
                ("Kedungtuban", AreaLevel::District, ""),
                ("Kradenan", AreaLevel::District, ""),
                ("Kunduran", AreaLevel::District, ""),
                ("Kacangan", AreaLevel::Village, "Todanan"),
            ]
        );
        assert!(results[3..].iter().all(|m| m.level == AreaLevel::Village));
        assert!(
            results[3..]
                .windows(2)
                .all(|w| w[0].area.name <= w[1].area.name)
        );
    }

    #[test]
    fn normalise_folds_case_marks_and_punctuation() {
        assert_eq!(normalise("  Kedungtuban   TENGAH "), "kedungtuban tengah");
        assert_eq!(normalise("Cépu"), "cepu");
        assert_eq!(normalise("Ce\u{301}pu"), "cepu");
        assert_eq!(normalise("İstanbul"), "istanbul");
        assert_eq!(normalise("Regapu’u"), "regapu u");
        assert_eq!(
            normalise("Lambang Sari I, II, III"),
            "lambang sari i ii iii"
        );
        assert_eq!(normalise("\"'-"), "");
    }

    #[test]
    fn quoted_fields_are_parsed() {
        let g = parse("99.01", FIXTURE).unwrap();
        assert_eq!(g.district("99.01.02").unwrap().name, "Ra\"as");
        assert_eq!(g.village("99.01.01.2002").unwrap().name, "Lubuk Pakam I,II");
        let crlf = FIXTURE.replace('\n', "\r\n");
        let g = parse("99.01", &crlf).unwrap();
        assert_eq!(
            g.village("99.01.01.2001").unwrap().name,
            "Kedungtuban Tengah"
        );
        assert_eq!(
            csv_records("a,\"b\nc\",\"\"\nd,e").unwrap(),
            [
                (1, vec!["a".into(), "b\nc".into(), String::new()]),
                (3, vec!["d".into(), "e".into()]),
            ]
        );
    }

    #[test]
    fn malformed_data_is_rejected_with_its_line() {
        let header = "code,parent_code,name\n99.01,99,Kabupaten Uji\n";
        let cases: Vec<(String, &str)> = vec![
            ("".to_string(), "the file is empty"),
            ("code,name\n".to_string(), "line 1: expected the header"),
            (
                "code,parent_code,name\n".to_string(),
                "no row for the regency",
            ),
            (
                "code,parent_code,name\n99.02,99,Lain\n".to_string(),
                "line 2: the first row must be regency 99.01",
            ),
            (
                "code,parent_code,name\n99.01,98,Uji\n".to_string(),
                "cannot belong to province",
            ),
            (header.to_string(), "no districts"),
            (
                format!("{header}99.01.01,99.01,\"Ra\"as\n"),
                "line 3: text after a closing quote",
            ),
            (
                format!("{header}99.01.01,99.01,Ra\"as\n"),
                "line 3: stray quote",
            ),
            (
                format!("{header}99.01.01,99.01,\"Raas\n"),
                "line 3: quoted field is never closed",
            ),
            (
                format!("{header}99.01.01,99.01\n"),
                "line 3: expected 3 fields",
            ),
            (
                format!("{header}99.01.01,99.01,A,B\n"),
                "line 3: expected 3 fields",
            ),
            (
                format!("{header}99.01.01,99.01, \n"),
                "line 3: `99.01.01` has an empty name",
            ),
            (
                format!("{header}99.01.01,99.01,-\n"),
                "99.01.01 has no searchable name",
            ),
            (
                format!("{header}99.01.01,99.01,A\n\n"),
                "line 4: expected 3 fields",
            ),
            (
                format!("{header}99.01.1a,99.01,A\n"),
                "line 3: district code `99.01.1a` does not extend 99.01",
            ),
            (
                format!("{header}99.02.01,99.02,A\n"),
                "is neither a district nor a village",
            ),
            (
                format!("{header}99.01.01,99.01,A\n99.01.01,99.01,B\n"),
                "district 99.01.01 is listed twice",
            ),
            (
                format!("{header}99.01.01,99.01,A\n99.01.02.2001,99.01.02,B\n"),
                "line 4: village 99.01.02.2001 belongs to district 99.01.02, which is not listed",
            ),
            (
                format!(
                    "{header}99.01.01,99.01,A\n99.01.01.2001,99.01.01,B\n99.01.01.2001,99.01.01,C\n"
                ),
                "village 99.01.01.2001 is listed twice",
            ),
            (
                format!("{header}99.01.01,99.01,A\n99.01.01.2001,99.01.02,B\n"),
                "neither a district nor a village",
            ),
        ];
        for (csv, expected) in &cases {
            let err = parse("99.01", csv).expect_err(csv);
            assert!(
                err.contains(expected),
                "{csv:?}: got {err:?}, want {expected:?}"
            );
        }
    }

    #[test]
    #[should_panic(expected = "the embedded gazetteer of regency 99.01 is malformed: line 3")]
    fn malformed_embedded_data_panics_clearly() {
        load(
            "99.01",
            "code,parent_code,name\n99.01,99,Uji\n99.01.01,99.01\n",
        );
    }

    #[test]
    fn results_serialise_for_the_front_ends() {
        let results = blora().search("cepu");
        assert_eq!(
            serde_json::to_string(&results[1]).unwrap(),
            r#"{"level":"village","area":{"code":"33.16.05.1014","name":"Cepu"},"district":{"code":"33.16.05","name":"Cepu"}}"#
        );
        assert_eq!(
            serde_json::to_value(&results[0]).unwrap()["level"],
            "district"
        );
    }
}
