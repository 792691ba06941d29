//! `berani`: a terminal front end over `berani-core`, for tests, demos and field diagnostics.
//!
//! It drives the same core as the Android app: drafts, sealing, the outbox and its upload, the
//! gazetteer and the agency profile. Every error ends the program with a non-zero status and one
//! line that names what was wrong, in English and Indonesian.

mod fields;
mod show;

use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use berani_core::age::{self, Recipient};
use berani_core::gazetteer::{DEFAULT_REGENCY, Gazetteer};
use berani_core::model::FieldValue;
use berani_core::outbox::ReportState;
use berani_core::profile::{self, AgencyProfile, ProfileKey, SigningKey};
use berani_core::store::KeyFile;
use berani_core::upload::{self, StopReason, SyncListener, SyncOptions};
use berani_core::{CoreError, DraftEdit, EditRefused, Reporter};
use berani_core::{strip, wipe};
use clap::{Parser, Subcommand};

use crate::fields::FieldArgs;

#[derive(Parser)]
#[command(
    name = "berani",
    version,
    about = "Berani reporter core, from a terminal"
)]
struct Cli {
    /// The reporter's home folder (drafts, outbox, profile).
    #[arg(long, global = true, env = "BERANI_HOME")]
    home: Option<PathBuf>,
    /// The device key file (default: <home>/device.key, created with mode 0600).
    #[arg(long, global = true, env = "BERANI_KEY_FILE")]
    key_file: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// The agency profile.
    #[command(subcommand)]
    Profile(ProfileCmd),
    /// Drafts.
    #[command(subcommand)]
    Draft(Box<DraftCmd>),
    /// Seal a draft and queue it for delivery.
    Submit {
        /// The draft id.
        id: String,
    },
    /// Send what the outbox holds to the agency's intake server, then print a summary.
    Sync {
        /// Stop after this many seconds at most (what is confirmed stays confirmed).
        #[arg(long = "for", value_name = "SECONDS", default_value_t = 600)]
        for_secs: u64,
    },
    /// Follow a report up: its status and the messages with the team (asks the server).
    Followup {
        /// The report id (a report submitted or followed up from this home).
        #[arg(required_unless_present = "receipt", conflicts_with = "receipt")]
        id: Option<String>,
        /// The report's code, as written down (from any home with the agency profile
        /// installed; the code is then kept in this home, sealed).
        #[arg(long)]
        receipt: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Queue a message to the team about a report; the next `sync` sends it.
    Reply {
        /// The report id.
        id: String,
        /// The message.
        text: String,
    },
    /// The volunteer who passed the app on: keep their code and count this install once
    /// (`POST /v1/volunteers/installs`, nothing else sent). Without CODE, show the code kept.
    Volunteer {
        /// The volunteer code, e.g. K7M-2QDV (case, spaces and dashes do not matter).
        code: Option<String>,
    },
    /// After delivery: remove this home's copy of a report (its sealed parts and summary),
    /// keeping only its id, state, the server's receipt and the follow-up (code, messages).
    /// Refused for a report not yet delivered: that would lose it.
    #[command(group = clap::ArgGroup::new("what").required(true).args(["id", "after_delivery"]))]
    Forget {
        /// The report id (delivered).
        id: Option<String>,
        /// The setting: `on` forgets every report as soon as it is delivered (and the ones
        /// already delivered now); `off` (the default) keeps them to look back at.
        #[arg(long, value_name = "on|off", value_parser = ["on", "off"])]
        after_delivery: Option<String>,
    },
    /// Relay through a volunteer: carry a queued report, sealed, to a place with signal.
    #[command(subcommand)]
    Relay(RelayCmd),
    /// Show the outbox with progress per part.
    Outbox {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List districts, the villages of one district, or search by name.
    Areas {
        /// A district code, to list its villages.
        district: Option<String>,
        /// Search district and village names (ignores case and accents).
        #[arg(long)]
        search: Option<String>,
        /// The regency (default: the profile's, else 33.16).
        #[arg(long)]
        regency: Option<String>,
    },
    /// List the choices for each report field, with their labels.
    Choices,
    /// Panic wipe: destroy the device key, then every draft, attachment and report here.
    Wipe {
        /// Keep delivering reports already queued (only their sealed parts are kept, under a
        /// new key); everything else is destroyed.
        #[arg(long)]
        keep_sending: bool,
        /// Confirm: without it nothing is touched.
        #[arg(long)]
        yes: bool,
    },
    /// Seal a file to age recipients (diagnostics).
    Seal {
        /// An age1… recipient (repeatable).
        #[arg(long = "recipient", short = 'r', required = true)]
        recipients: Vec<String>,
        /// Input file.
        input: PathBuf,
        /// Output file.
        output: PathBuf,
    },
    /// Open an age file, binary or ASCII-armored (`age -a`), with an identity file (diagnostics).
    Open {
        /// A file with AGE-SECRET-KEY-1… lines.
        #[arg(long, short = 'i')]
        identity: PathBuf,
        /// Input file.
        input: PathBuf,
        /// Output file.
        output: PathBuf,
    },
}

#[derive(Subcommand)]
enum ProfileCmd {
    /// Verify and install a signed profile, from a file or from the intake server.
    Import {
        /// The signed profile: a file, or an http(s) URL (`/v1/profile` is added to a URL
        /// without a path, e.g. https://lapor.example.go.id).
        file: PathBuf,
        /// The agency's profile-signing public key (ed25519:…), pinned by the first import:
        /// needed the first time, checked against the pinned key after.
        #[arg(long, value_name = "ed25519:KEY", env = "BERANI_PROFILE_KEY")]
        trust: Option<String>,
    },
    /// Show the installed profile.
    Show {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Create a profile-signing key (PEM, mode 0600) and print its public key.
    Keygen {
        /// Where to write the private key.
        out: PathBuf,
    },
    /// Sign a profile JSON document with a signing key.
    Sign {
        /// The private key (PEM).
        #[arg(long)]
        key: PathBuf,
        /// The profile JSON.
        input: PathBuf,
        /// Where to write the signed profile.
        output: PathBuf,
    },
}

#[derive(Subcommand)]
enum DraftCmd {
    /// Start a draft; prints its id.
    New(FieldArgs),
    /// Change a draft.
    Edit {
        /// The draft id.
        id: String,
        #[command(flatten)]
        fields: FieldArgs,
        /// Clear a field (repeatable): category, victim_sex, victim_age_band, reporter_role,
        /// incident_date, district, village, location_detail, place_type,
        /// perpetrator_relationship, description, contact_number.
        #[arg(long, value_name = "FIELD")]
        clear: Vec<String>,
        /// Remove an attachment by id (repeatable).
        #[arg(long, value_name = "ATTACHMENT_ID")]
        remove_attachment: Vec<String>,
    },
    /// Show a draft.
    Show {
        /// The draft id.
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List drafts.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete a draft and its attachments.
    Delete {
        /// The draft id.
        id: String,
    },
}

#[derive(Subcommand)]
enum RelayCmd {
    /// Write a queued report's sealed parts as one bundle file for a volunteer to carry
    /// (nothing in it is readable; the report stays queued here too).
    Export {
        /// The report id.
        id: String,
        /// The bundle file to write (e.g. laporan.berani).
        file: PathBuf,
    },
    /// Check a bundle and take it into this home's outbox; `sync` delivers it.
    Import {
        /// The bundle file.
        file: PathBuf,
        /// Only check the bundle and say what it holds; change nothing.
        #[arg(long)]
        check: bool,
    },
}

/// An error for the terminal: one line, English then Indonesian.
struct Failure(String);

impl From<CoreError> for Failure {
    fn from(e: CoreError) -> Self {
        Failure(format!("{e} — {}", e.message_id()))
    }
}

fn fail(en: &str, id: &str) -> Failure {
    Failure(format!("{en} — {id}"))
}

fn io_fail(what: &str, path: &Path, e: std::io::Error) -> Failure {
    Failure(format!(
        "{what} {}: {} — gagal membaca/menulis file",
        path.display(),
        e.kind()
    ))
}

type Out = Result<(), Failure>;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("berani: {}", usage_error(&e));
            return ExitCode::from(2);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(msg)) => {
            eprintln!("berani: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// A usage error as one line: clap's message with its list (the missing arguments, say) and
/// tips joined in, the usage it shows, and the Indonesian.
fn usage_error(e: &clap::Error) -> String {
    use clap::error::ErrorKind;
    let text = e.to_string();
    let mut what = String::new();
    let mut usage = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with("For more information") {
            continue;
        }
        if let Some(u) = line.strip_prefix("Usage: ") {
            usage = Some(u);
            continue;
        }
        let line = line.trim_start_matches("error: ");
        let sep = match what.chars().last() {
            None => "",
            Some(':') => " ",
            _ if line.starts_with('<') || line.starts_with('-') => ", ",
            _ => "; ",
        };
        what.push_str(sep);
        what.push_str(line);
    }
    let mut what = what.trim_end_matches(':').to_string();
    if let (
        ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand,
        Some(u),
    ) = (e.kind(), usage)
        && let Some(line) = missing_command(u)
    {
        what = line;
    }
    let id = match e.kind() {
        ErrorKind::MissingRequiredArgument => "argumen wajib belum diberikan",
        ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            "perintahnya belum lengkap"
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => "nilai tidak sah",
        ErrorKind::UnknownArgument => "argumen tidak dikenal",
        ErrorKind::InvalidSubcommand => "perintah tidak dikenal",
        ErrorKind::ArgumentConflict => "argumen ini tidak bisa dipakai bersama",
        _ => "perintah tidak sah",
    };
    match usage {
        Some(u) => format!("{what} (usage: {u}) — {id}; lihat --help"),
        None => format!("{what} — {id}; lihat --help"),
    }
}

/// "`berani draft` needs a command: new, edit, …", from the usage clap shows (`berani draft
/// [OPTIONS] <COMMAND>`), instead of the whole help.
fn missing_command(usage: &str) -> Option<String> {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    let mut path = vec![cmd.get_name().to_string()];
    for word in usage.split_whitespace().skip(1) {
        if word.starts_with(['[', '<']) {
            break;
        }
        cmd = cmd.find_subcommand(word)?.clone();
        path.push(word.to_string());
    }
    let names: Vec<&str> = cmd
        .get_subcommands()
        .map(|c| c.get_name())
        .filter(|n| *n != "help")
        .collect();
    (!names.is_empty())
        .then(|| format!("`{}` needs a command: {}", path.join(" "), names.join(", ")))
}

fn home_and_key(cli: &Cli) -> Result<(&Path, KeyFile), Failure> {
    let home = cli.home.as_ref().ok_or_else(|| {
        fail(
            "no home folder: pass --home DIR or set BERANI_HOME",
            "folder data belum ditentukan",
        )
    })?;
    if home.exists() && !home.is_dir() {
        return Err(Failure(format!(
            "--home {}: not a folder (a file has that name) — bukan folder (ada file dengan nama itu)",
            home.display()
        )));
    }
    let key = cli
        .key_file
        .clone()
        .unwrap_or_else(|| home.join("device.key"));
    Ok((home, KeyFile::new(key)))
}

fn open_reporter(cli: &Cli) -> Result<Reporter, Failure> {
    let (home, key) = home_and_key(cli)?;
    Reporter::open(home, &key).map_err(|e| match e {
        // The core's errors carry no paths; the folder is the one the user named.
        CoreError::Io(e) => Failure(format!(
            "--home {}: cannot open the folder: {} — folder data tidak bisa dibuka",
            home.display(),
            e.kind()
        )),
        e => e.into(),
    })
}

/// `berani volunteer [CODE]`.
fn volunteer(cli: &Cli, code: Option<&str>) -> Out {
    use berani_core::volunteer::InstallState;
    let r = open_reporter(cli)?;
    if let Some(code) = code {
        r.set_volunteer_code(code)?;
        match runtime()?.block_on(r.report_volunteer_install()) {
            Ok(_) => {}
            Err(CoreError::NotFound(_)) => {
                return Err(fail(
                    "volunteer_code: the agency does not know this code (or it was switched off)",
                    "kode relawan tidak dikenal kantor (atau sudah tidak aktif)",
                ));
            }
            Err(e) => eprintln!(
                "berani: not sent yet, `berani sync` tries again: {e} — belum terkirim, dicoba lagi saat sync"
            ),
        }
    }
    match r.volunteer()? {
        None => println!("no volunteer code — belum ada kode relawan"),
        Some(v) => {
            let state = match v.state {
                InstallState::Pending => "not counted yet — belum tercatat",
                InstallState::Counted => "install counted — pemasangan tercatat",
                InstallState::Refused => "unknown to the agency — tidak dikenal kantor",
            };
            println!("volunteer code {}: {state}", v.code);
        }
    }
    Ok(())
}

/// The panic wipe; works even when the home no longer opens.
fn wipe_cmd(cli: &Cli, keep_sending: bool, yes: bool) -> Out {
    if !yes {
        return Err(fail(
            "this destroys every draft, attachment and report here for good; add --yes",
            "ini menghapus semua draf, lampiran dan laporan untuk selamanya; tambahkan --yes",
        ));
    }
    let (home, key) = home_and_key(cli)?;
    let out = wipe::wipe_home(home, &key, keep_sending).map_err(|e| {
        Failure(format!(
            "--home {}: {e} — {}",
            home.display(),
            e.message_id()
        ))
    })?;
    if keep_sending {
        println!(
            "wiped; {} queued report(s) kept for delivery — dihapus; {} laporan antrean tetap dikirim",
            out.kept_reports, out.kept_reports
        );
    } else {
        println!("wiped — dihapus");
    }
    Ok(())
}

fn print_json<T: serde::Serialize>(v: &T) -> Out {
    println!("{}", serde_json::to_string_pretty(v).expect("serialisable"));
    Ok(())
}

fn run(cli: Cli) -> Out {
    match &cli.cmd {
        Cmd::Profile(p) => profile_cmd(&cli, p),
        Cmd::Draft(d) => draft_cmd(&cli, d),
        Cmd::Submit { id } => {
            let r = open_reporter(&cli)?;
            let report = r.submit(id)?;
            println!(
                "queued {} ({} sealed parts) — laporan siap dikirim",
                report.id,
                report.parts.len()
            );
            if let Some(code) = r.receipt_code(&report.id)? {
                println!("receipt code: {code}");
                println!("{}", berani_core::followup::RECEIPT_ADVICE_ID);
                println!("{}", berani_core::followup::RECEIPT_ADVICE_EN);
            }
            Ok(())
        }
        Cmd::Sync { for_secs } => {
            sync(&cli, Duration::from_secs(*for_secs))?;
            // A volunteer install still to be counted goes with the next connection; a failure
            // here never fails the sync (it is tried again next time).
            let r = open_reporter(&cli)?;
            if let Ok(true) = runtime()?.block_on(r.report_volunteer_install()) {
                println!("volunteer install counted — pemasangan lewat relawan tercatat");
            }
            Ok(())
        }
        Cmd::Volunteer { code } => volunteer(&cli, code.as_deref()),
        Cmd::Followup { id, receipt, json } => {
            let r = open_reporter(&cli)?;
            let rt = runtime()?;
            let thread = match (id, receipt) {
                (_, Some(code)) => rt.block_on(r.followup_with_receipt(code))?,
                (Some(id), None) => rt.block_on(r.followup(id))?,
                (None, None) => unreachable!("clap requires one"),
            };
            if *json {
                return print_json(&thread);
            }
            print!("{}", show::thread(&thread));
            Ok(())
        }
        Cmd::Reply { id, text } => {
            let r = open_reporter(&cli)?;
            let m = r.reply(id, text)?;
            println!(
                "message {} queued; `berani sync` sends it — pesan siap dikirim",
                m.id
            );
            Ok(())
        }
        Cmd::Forget { id, after_delivery } => {
            let r = open_reporter(&cli)?;
            if let Some(id) = id {
                r.forget_delivered(id)?;
                println!(
                    "forgot the local copy of {id}; the receipt stays — salinan dihapus, tanda terima tetap"
                );
            }
            if let Some(setting) = after_delivery {
                let n = r.set_forget_after_delivery(setting == "on")?;
                println!(
                    "forget after delivery: {setting} ({n} delivered reports forgotten now) — hapus salinan setelah terkirim: {}",
                    if setting == "on" { "aktif" } else { "mati" }
                );
            }
            Ok(())
        }
        Cmd::Relay(RelayCmd::Export { id, file }) => {
            let r = open_reporter(&cli)?;
            let out = r.relay_export(id, file)?;
            println!(
                "bundle for {} written ({} sealed parts, {} bytes) — file titipan dibuat",
                out.report_id, out.parts, out.bytes
            );
            println!("{}", berani_core::relay::SHARE_EXPLANATION_ID);
            println!("{}", berani_core::relay::SHARE_EXPLANATION_EN);
            Ok(())
        }
        Cmd::Relay(RelayCmd::Import { file, check }) => {
            let r = open_reporter(&cli)?;
            let out = if *check {
                r.relay_inspect(file)?
            } else {
                r.relay_import(file)?
            };
            let (en, id) = match (check, out.already) {
                (_, true) => (
                    "already in this outbox; nothing changed",
                    "sudah ada di antrean; tidak ada yang diubah",
                ),
                (true, false) => (
                    "bundle checked; not imported",
                    "file titipan sudah diperiksa; belum diambil",
                ),
                (false, false) => (
                    "carried report queued; `berani sync` delivers it",
                    "titipan relawan masuk antrean",
                ),
            };
            println!(
                "{}: {} sealed parts, {} bytes; {en} — {id}",
                out.report_id, out.parts, out.bytes
            );
            Ok(())
        }
        Cmd::Outbox { json } => {
            let r = open_reporter(&cli)?;
            let list = r.outbox().list()?;
            if *json {
                return print_json(&list);
            }
            // A damaged profile must not hide the outbox: receipts then show as unverified.
            let receipt_key = r.profile().ok().flatten().and_then(|p| p.receipt_key);
            print!("{}", show::outbox(&list, receipt_key.as_ref()));
            Ok(())
        }
        Cmd::Areas {
            district,
            search,
            regency,
        } => areas(
            &cli,
            district.as_deref(),
            search.as_deref(),
            regency.as_deref(),
        ),
        Cmd::Choices => {
            choices();
            Ok(())
        }
        Cmd::Wipe { keep_sending, yes } => wipe_cmd(&cli, *keep_sending, *yes),
        Cmd::Seal {
            recipients,
            input,
            output,
        } => {
            let rs = recipients
                .iter()
                .map(|r| r.parse::<Recipient>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| fail("--recipient: not an age1… key", "kunci penerima tidak sah"))?;
            let inp = File::open(input).map_err(|e| io_fail("cannot read", input, e))?;
            let out = File::create(output).map_err(|e| io_fail("cannot write", output, e))?;
            let (_, w) = age::seal(&rs, BufReader::new(inp), BufWriter::new(out))
                .map_err(|e| Failure(format!("{e} — gagal mengenkripsi")))?;
            w.into_inner()
                .map_err(|e| io_fail("cannot write", output, e.into_error()))?
                .sync_all()
                .map_err(|e| io_fail("cannot write", output, e))?;
            Ok(())
        }
        Cmd::Open {
            identity,
            input,
            output,
        } => {
            let text =
                fs::read_to_string(identity).map_err(|e| io_fail("cannot read", identity, e))?;
            let ids = age::parse_identity_file(&text).map_err(|_| {
                fail(
                    "--identity: no valid AGE-SECRET-KEY-1… line",
                    "kunci tidak sah",
                )
            })?;
            let inp = File::open(input).map_err(|e| io_fail("cannot read", input, e))?;
            // Write to a temporary name first, so a damaged file leaves no partial output.
            let tmp = output.with_extension("partial");
            let out = File::create(&tmp).map_err(|e| io_fail("cannot write", &tmp, e))?;
            let mut w = BufWriter::new(out);
            let res = age::open_detecting_armor(&ids, BufReader::new(inp), &mut w)
                .and_then(|_| Ok(w.flush()?));
            drop(w);
            if let Err(e) = res {
                let _ = fs::remove_file(&tmp);
                return Err(Failure(format!(
                    "{}: {e} — file rusak atau bukan untuk kunci ini",
                    input.display()
                )));
            }
            fs::rename(&tmp, output).map_err(|e| io_fail("cannot write", output, e))?;
            Ok(())
        }
    }
}

fn profile_cmd(cli: &Cli, cmd: &ProfileCmd) -> Out {
    match cmd {
        ProfileCmd::Import { file, trust } => {
            let trust = trust
                .as_deref()
                .map(str::parse::<ProfileKey>)
                .transpose()
                .map_err(|_| {
                    fail(
                        "--trust (or BERANI_PROFILE_KEY): not an ed25519:… public key",
                        "kunci penanda tangan profil tidak sah",
                    )
                })?;
            let r = open_reporter(cli)?;
            // Said before anything is fetched: the first import needs the key.
            if trust.is_none() && r.trusted_profile_key()?.is_none() {
                return Err(fail(
                    "agency profile: no profile-signing key is trusted yet; pass --trust \
                     ed25519:KEY, the agency's profile-signing key (or set BERANI_PROFILE_KEY)",
                    "belum ada kunci tepercaya; tambahkan --trust ed25519:KUNCI, kunci penanda \
                     tangan profil dari lembaga (atau isi BERANI_PROFILE_KEY)",
                ));
            }
            let source = file.to_string_lossy();
            let signed = if source.starts_with("http://") || source.starts_with("https://") {
                runtime()?.block_on(upload::fetch_profile(&source))?
            } else {
                fs::read(file).map_err(|e| io_fail("cannot read", file, e))?
            };
            let p = r.import_profile(&signed, trust)?;
            println!(
                "installed profile v{} of {} — profil lembaga terpasang",
                p.version, p.agency_name
            );
            Ok(())
        }
        ProfileCmd::Show { json } => {
            let r = open_reporter(cli)?;
            let p = r.profile()?.ok_or(CoreError::Profile(
                berani_core::profile::ProfileError::NotInstalled,
            ))?;
            if *json {
                return print_json(&p);
            }
            print!("{}", show::profile(&p));
            if let Some(k) = r.trusted_profile_key()? {
                println!("signing key: {k}");
            }
            Ok(())
        }
        ProfileCmd::Keygen { out } => {
            let key = SigningKey::generate();
            write_private(out, key.to_pem().as_bytes())?;
            println!("{}", key.public());
            Ok(())
        }
        ProfileCmd::Sign { key, input, output } => {
            let pem = fs::read_to_string(key).map_err(|e| io_fail("cannot read", key, e))?;
            let key = SigningKey::from_pem(&pem).map_err(CoreError::from)?;
            let json = fs::read(input).map_err(|e| io_fail("cannot read", input, e))?;
            let p: AgencyProfile = serde_json::from_slice(&json).map_err(|e| {
                Failure(format!(
                    "{}: not a profile: {e} — bukan profil",
                    input.display()
                ))
            })?;
            let signed = profile::sign(&p, &key);
            fs::write(output, signed).map_err(|e| io_fail("cannot write", output, e))?;
            Ok(())
        }
    }
}

/// A runtime for the network commands: one thread is plenty for one upload at a time.
fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            Failure(format!(
                "cannot start the network runtime: {} — gagal memulai",
                e.kind()
            ))
        })
}

/// Prints what a sync does, one line per event.
struct Printer;

impl SyncListener for Printer {
    fn part_progress(&self, report_id: &str, part: u32, sent: u64, total: u64) {
        let pct = (sent * 100).checked_div(total).unwrap_or(100);
        println!(
            "{report_id} part {part}: {} of {} ({pct}%)",
            show::size(sent),
            show::size(total)
        );
    }

    fn report_state(&self, report_id: &str, state: ReportState) {
        let what = match state {
            ReportState::Queued => "queued — menunggu",
            ReportState::Sending => "sending — mengirim",
            ReportState::Delivered => "delivered, receipt kept — laporan terkirim",
            ReportState::Failed => "failed — gagal",
        };
        println!("{report_id}: {what}");
    }
}

fn sync(cli: &Cli, budget: Duration) -> Out {
    let r = open_reporter(cli)?;
    let opts = SyncOptions::new(budget);
    let cancel = opts.cancel.clone();
    let rt = runtime()?;
    let report = rt.block_on(async {
        // Ctrl-C stops the sync cleanly: progress is saved and the summary printed.
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.cancel();
            }
        });
        upload::sync(&r, &Printer, opts).await
    })?;
    for (id, reason) in &report.failed {
        println!("{id}: {} / {}", reason.message_en(), reason.message_id());
    }
    println!(
        "delivered {}, failed {}, pending {}, attempts {}",
        report.delivered.len(),
        report.failed.len(),
        report.pending,
        report.attempts
    );
    if !report.messages_sent.is_empty() {
        println!(
            "messages sent {} — pesan terkirim",
            report.messages_sent.len()
        );
    }
    println!(
        "stopped: {} — {} / {}",
        report.stopped.key(),
        report.stopped.message_en(),
        report.stopped.message_id()
    );
    if (report.stopped != StopReason::Done || r.queued_messages()? > 0)
        && let Some(e) = &report.last_error
    {
        println!("last problem: {e}");
    }
    if let Some(after) = report.retry_after {
        println!("try again in about {} s", after.as_secs().max(1));
    }
    Ok(())
}

fn write_private(path: &Path, data: &[u8]) -> Out {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| io_fail("cannot create", path, e))?;
    f.write_all(data)
        .and_then(|_| f.sync_all())
        .map_err(|e| io_fail("cannot write", path, e))
}

/// Applies `fields` (after `clear` and `remove` on `draft edit`) to a draft as one edit: all of
/// it is saved, or none of it. A refused file is named by its flag and path.
fn apply(r: &Reporter, id: &str, fields: &FieldArgs, clear: &[String], remove: &[String]) -> Out {
    let mut edit = DraftEdit {
        remove_attachments: remove.to_vec(),
        fields: clear
            .iter()
            .map(|name| clear_value(name))
            .collect::<Result<_, _>>()?,
        attach: Vec::new(),
    };
    edit.fields.extend(fields.updates());
    let files = fields.files();
    edit.attach = files.iter().map(|(_, a)| a.clone()).collect();
    if !fields.keep_metadata.is_empty() {
        eprintln!(
            "{}\n{}",
            strip::KEEP_METADATA_WARNING_ID,
            strip::KEEP_METADATA_WARNING_EN
        );
    }
    match r.edit_draft(id, &edit) {
        Ok(_) => Ok(()),
        Err(EditRefused {
            attachment: Some(i),
            error,
        }) => Err(Failure(format!(
            "{} {}: {error} — {}",
            files[i].0,
            files[i].1.path.display(),
            error.message_id()
        ))),
        Err(e) => Err(e.error.into()),
    }
}

fn clear_value(name: &str) -> Result<FieldValue, Failure> {
    Ok(match name {
        "category" => FieldValue::Category(None),
        "victim_sex" => FieldValue::VictimSex(None),
        "victim_age_band" => FieldValue::VictimAgeBand(None),
        "reporter_role" => FieldValue::ReporterRole(None),
        "incident_date" => FieldValue::IncidentDate(None),
        "district" => FieldValue::District(None),
        "village" => FieldValue::Village(None),
        "location_detail" => FieldValue::LocationDetail(None),
        "place_type" => FieldValue::PlaceType(None),
        "perpetrator_relationship" => FieldValue::PerpetratorRelationship(None),
        "description" => FieldValue::Description(None),
        "contact_number" => FieldValue::Contact(None),
        _ => {
            return Err(fail(
                "--clear: unknown field name",
                "nama isian tidak dikenal",
            ));
        }
    })
}

fn draft_cmd(cli: &Cli, cmd: &DraftCmd) -> Out {
    let r = open_reporter(cli)?;
    match cmd {
        DraftCmd::New(fields) => {
            let d = r.create_draft()?;
            // Refused input must leave nothing behind, not an empty draft.
            if let Err(e) = apply(&r, &d.id, fields, &[], &[]) {
                r.delete_draft(&d.id)?;
                return Err(e);
            }
            println!("{}", d.id);
            Ok(())
        }
        DraftCmd::Edit {
            id,
            fields,
            clear,
            remove_attachment,
        } => {
            apply(&r, id, fields, clear, remove_attachment)?;
            println!("{id}");
            Ok(())
        }
        DraftCmd::Show { id, json } => {
            let d = r.draft(id)?;
            if *json {
                return print_json(&d);
            }
            print!("{}", show::draft(&d));
            Ok(())
        }
        DraftCmd::List { json } => {
            let ds = r.drafts()?;
            if *json {
                return print_json(&ds);
            }
            for d in &ds {
                println!("{}", show::draft_line(d));
            }
            Ok(())
        }
        DraftCmd::Delete { id } => {
            r.delete_draft(id)?;
            println!("deleted {id}");
            Ok(())
        }
    }
}

fn areas(cli: &Cli, district: Option<&str>, search: Option<&str>, regency: Option<&str>) -> Out {
    let unknown = || {
        fail(
            "--regency: no map data for this regency",
            "kabupaten tidak dikenal",
        )
    };
    let g = match (regency, &cli.home) {
        (Some(r), _) => Gazetteer::for_regency(r).ok_or_else(unknown)?,
        (None, Some(_)) => open_reporter(cli)?.gazetteer()?,
        (None, None) => Gazetteer::for_regency(DEFAULT_REGENCY).ok_or_else(unknown)?,
    };
    if let Some(q) = search {
        for m in g.search(q) {
            match &m.district {
                Some(d) => println!("{}  {}  ({})", m.area.code, m.area.name, d.name),
                None => println!("{}  {}  (kecamatan)", m.area.code, m.area.name),
            }
        }
        return Ok(());
    }
    match district {
        Some(d) => {
            let vs = g
                .villages(d)
                .ok_or_else(|| fail("district: unknown code", "kode kecamatan tidak dikenal"))?;
            for v in vs {
                println!("{}  {}", v.code, v.name);
            }
        }
        None => {
            for d in g.districts() {
                println!("{}  {}", d.code, d.name);
            }
        }
    }
    Ok(())
}

fn choices() {
    use berani_core::model::Choice;
    fn list<T: Choice>(title: &str) {
        println!("{title}:");
        for v in T::ALL {
            println!("  {:<16} {} / {}", v.key(), v.label_id(), v.label_en());
        }
    }
    use berani_core::model::*;
    println!("category:");
    for c in Category::ALL {
        println!("  {:<16} {} / {}", c.key(), c.label_id(), c.label_en());
        println!("  {:<16} {}", "", c.description_id());
        println!("  {:<16} {}", "", c.description_en());
    }
    list::<VictimSex>("victim");
    list::<AgeBand>("age-band");
    list::<ReporterRole>("role");
    list::<PlaceType>("place");
    list::<Relationship>("relationship");
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_clear_name_is_a_field() {
        for name in [
            "category",
            "victim_sex",
            "victim_age_band",
            "reporter_role",
            "incident_date",
            "district",
            "village",
            "location_detail",
            "place_type",
            "perpetrator_relationship",
            "description",
            "contact_number",
        ] {
            assert!(clear_value(name).is_ok(), "{name}");
        }
        assert!(clear_value("nonsense").is_err());
    }
}
