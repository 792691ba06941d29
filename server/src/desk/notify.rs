//! E-mail notifications: the on-duty team hears when a report arrives and when a case is
//! [`WARN_BEFORE_SECS`] from missing its assessment deadline.
//!
//! A background task ([`run`]) looks every `--notify-interval` (30 s) for:
//!
//! - **new cases** (`notified_at IS NULL`): one e-mail to every enabled coordinator or admin
//!   who is on duty and has an e-mail address; then `notified_at` is set;
//! - **cases near their deadline**: still `received` or `identified`, not assessed, due within
//!   [`WARN_BEFORE_SECS`] (or already overdue) and not yet warned about: one e-mail to the same
//!   people and to the assignee (on duty or not); then `sla_warned_at` is set.
//!
//! Cases found in the same round share one e-mail per person, so a burst of reports (or a
//! backlog after an outage) is one e-mail, not a flood.
//!
//! **An e-mail holds a link and nothing about the report**: not its category, district, time
//! or text. The link (`{public_url}/desk/cases/{id}`) names the case by its random id, and the
//! desk asks for a login. Logs say how many cases and which user, never anything else.
//!
//! **Nothing is marked before an e-mail went out.** A case is marked once at least one of its
//! recipients' SMTP server accepted the e-mail. When every send fails (SMTP down), nothing is
//! marked and the next round tries again; when nobody on duty has an e-mail address, new cases
//! stay unmarked until someone is on duty, so coordinators cannot miss a report. Such
//! problems are logged when they start or change and then at most once an hour, not every
//! round. A case that the desk already took up (assigned, or moved past `received`) before
//! any e-mail went out is marked without an e-mail: someone has seen it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lettre::message::{Mailbox, SinglePart};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rusqlite::{Connection, params};
use tokio::sync::watch;

use super::cases::WARN_BEFORE_SECS;
use crate::app::AppState;
use crate::config::SmtpConfig;
use crate::db;
use crate::error::ServerError;

/// Longest wait for any one SMTP reply.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);
/// A problem that persists is logged again after this long.
const REPEAT_LOG: Duration = Duration::from_secs(3600);
/// Links listed in one e-mail; more cases are pointed to the inbox.
const MAX_LINKS: usize = 50;

/// Sends the notification e-mails.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// A mailer for `cfg`; refuses a URL or sender address that cannot work.
    pub fn new(cfg: &SmtpConfig) -> Result<Self, ServerError> {
        // lettre's errors name the problem, never the URL (which may hold a password).
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&cfg.url)
            .map_err(|e| {
                ServerError::Config(format!(
                    "--smtp-url is not a usable SMTP URL ({e}); use e.g. smtp://host:25, \
                     smtp://user:pass@host:587?tls=required or smtps://user:pass@host:465"
                ))
            })?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        if cfg.from.trim().is_empty() {
            return Err(ServerError::Config(
                "--smtp-url needs --smtp-from ADDRESS (or BERANI_SMTP_FROM): the sender of \
                 notification e-mails"
                    .into(),
            ));
        }
        let from = cfg.from.trim().parse::<Mailbox>().map_err(|e| {
            ServerError::Config(format!(
                "--smtp-from is not an e-mail address ({e}): {:?}",
                cfg.from
            ))
        })?;
        Ok(Self { transport, from })
    }

    async fn send(&self, to: &Address, mail: &Mail) -> Result<(), String> {
        // lettre picks the transfer encoding: 7bit for these ASCII texts, quoted-printable
        // only when a link line is longer than 76 characters.
        let msg = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to.clone()))
            .subject(mail.subject.clone())
            .message_id(None)
            .singlepart(SinglePart::plain(mail.body.clone()))
            .map_err(|e| format!("cannot build the e-mail: {e}"))?;
        self.transport
            .send(msg)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// Runs a notification round at start and then every `every`, until `stop` turns true.
pub async fn run(
    state: Arc<AppState>,
    mailer: Mailer,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut log = QuietLog::default();
    loop {
        tokio::select! {
            r = round(&state, &mailer, &mut log) => {
                if let Err(e) = r {
                    log.warn("round", format!("notification round failed: {e}"));
                }
            }
            () = crate::http::stopped(&mut stop) => return,
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            () = crate::http::stopped(&mut stop) => return,
        }
    }
}

/// Who gets e-mails: an enabled user with an address.
#[derive(Debug, Clone)]
struct Person {
    user: String,
    email: Option<String>,
}

/// What one round finds in the database.
struct Found {
    on_duty: Vec<Person>,
    /// New cases: id, and whether the desk has already taken it up.
    new: Vec<(String, bool)>,
    /// Cases near their deadline: id and assignee (when enabled).
    due: Vec<(String, Option<Person>)>,
}

fn find(c: &Connection, now: i64) -> rusqlite::Result<Found> {
    let mut st = c.prepare(
        "SELECT username, email FROM users
         WHERE on_duty = 1 AND disabled_at IS NULL AND role IN ('coordinator', 'admin')
           AND email IS NOT NULL AND trim(email) != ''
         ORDER BY username",
    )?;
    let on_duty = st
        .query_map([], |r| {
            Ok(Person {
                user: r.get(0)?,
                email: r.get(1)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut st = c.prepare(
        "SELECT report, stage != 'received' OR assignee IS NOT NULL FROM cases
         WHERE notified_at IS NULL ORDER BY received_at, report",
    )?;
    let new = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut st = c.prepare(
        "SELECT c.report, u.username, u.email FROM cases c
         LEFT JOIN users u ON u.username = c.assignee AND u.disabled_at IS NULL
         WHERE c.stage IN ('received', 'identified') AND c.assessed_at IS NULL
           AND c.sla_warned_at IS NULL AND c.due_at - ?1 <= ?2
         ORDER BY c.due_at, c.report",
    )?;
    let due = st
        .query_map(params![now, WARN_BEFORE_SECS], |r| {
            let user: Option<String> = r.get(1)?;
            Ok((
                r.get(0)?,
                user.map(|user| Person {
                    user,
                    email: r.get(2).ok().flatten(),
                }),
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Found { on_duty, new, due })
}

/// Sets `column` (one of the two literal names below) for `ids`.
fn mark(
    c: &rusqlite::Transaction,
    column: &'static str,
    ids: &[String],
    now: i64,
) -> rusqlite::Result<()> {
    let mut st = c.prepare(&format!(
        "UPDATE cases SET {column} = ?1 WHERE report = ?2 AND {column} IS NULL"
    ))?;
    for id in ids {
        st.execute(params![now, id])?;
    }
    Ok(())
}

/// One round: sends what is due and marks what was sent. Returns the cases marked.
pub async fn round(
    state: &Arc<AppState>,
    mailer: &Mailer,
    log: &mut QuietLog,
) -> Result<usize, ServerError> {
    let now = db::now();
    let found = state.db.read_async(move |c| find(c, now)).await?;
    let base = state.desk.public_url.trim_end_matches('/').to_string();

    let mut on_duty = Vec::new();
    for p in &found.on_duty {
        if let Some(a) = address(p, log) {
            on_duty.push((p.user.clone(), a));
        }
    }

    // New cases the desk already took up need no e-mail.
    let (seen, unseen): (Vec<_>, Vec<_>) = found.new.into_iter().partition(|(_, seen)| *seen);
    let mut notified: Vec<String> = seen.into_iter().map(|(id, _)| id).collect();
    let unseen: Vec<String> = unseen.into_iter().map(|(id, _)| id).collect();
    if !unseen.is_empty() {
        if on_duty.is_empty() {
            log.warn(
                "nobody",
                format!(
                    "{} new case(s) wait for an e-mail, but no enabled coordinator or admin is on \
                     duty with an e-mail address; they are sent as soon as someone is",
                    unseen.len()
                ),
            );
        } else {
            log.clear(
                "nobody",
                "an on-duty coordinator with an e-mail address is set again",
            );
            let mail = Mail::new_cases(&base, &unseen);
            let mut sent = 0;
            for (user, to) in &on_duty {
                if send(mailer, user, to, &mail, log).await {
                    sent += 1;
                }
            }
            if sent > 0 {
                tracing::info!(
                    "e-mailed {sent} on-duty user(s) about {} new case(s)",
                    unseen.len()
                );
                notified.extend(unseen);
            }
        }
    }

    // Near the deadline: every on-duty person hears of every case, an assignee of theirs.
    let mut lists: BTreeMap<String, (Address, Vec<String>, bool)> = BTreeMap::new();
    for (user, to) in &on_duty {
        let ids = found.due.iter().map(|(id, _)| id.clone()).collect();
        lists.insert(user.clone(), (to.clone(), ids, true));
    }
    for (id, assignee) in &found.due {
        let Some(p) = assignee else { continue };
        if lists.get(&p.user).is_some_and(|(_, _, duty)| *duty) {
            continue;
        }
        if let Some(a) = address(p, log) {
            lists
                .entry(p.user.clone())
                .or_insert_with(|| (a, Vec::new(), false))
                .1
                .push(id.clone());
        }
    }
    let mut warned: Vec<String> = Vec::new();
    if !found.due.is_empty() && lists.is_empty() {
        log.warn(
            "nobody-due",
            format!(
                "{} case(s) are near their assessment deadline, but nobody on duty or assigned \
                 has an e-mail address; they are sent as soon as someone does",
                found.due.len()
            ),
        );
    } else if !found.due.is_empty() {
        log.clear("nobody-due", "deadline warnings have recipients again");
    }
    for (user, (to, ids, duty)) in &lists {
        if ids.is_empty() {
            continue;
        }
        let mail = Mail::deadline(&base, ids, *duty);
        if send(mailer, user, to, &mail, log).await {
            warned.extend(ids.iter().cloned());
        }
    }
    warned.sort();
    warned.dedup();
    if !warned.is_empty() {
        tracing::info!("e-mailed a deadline warning about {} case(s)", warned.len());
    }

    let marked = notified.len() + warned.len();
    if marked > 0 {
        state
            .db
            .write_async(move |tx| {
                mark(tx, "notified_at", &notified, now)?;
                mark(tx, "sla_warned_at", &warned, now)
            })
            .await?;
    }
    Ok(marked)
}

fn address(p: &Person, log: &mut QuietLog) -> Option<Address> {
    let email = p.email.as_deref()?.trim();
    if email.is_empty() {
        return None;
    }
    match email.parse::<Address>() {
        Ok(a) => Some(a),
        Err(_) => {
            log.warn(
                &format!("address:{}", p.user),
                format!(
                    "user {} has an e-mail address that is not valid; no e-mail is sent to them",
                    p.user
                ),
            );
            None
        }
    }
}

async fn send(mailer: &Mailer, user: &str, to: &Address, mail: &Mail, log: &mut QuietLog) -> bool {
    match mailer.send(to, mail).await {
        Ok(()) => {
            log.clear(
                &format!("send:{user}"),
                &format!("e-mail to user {user} works again"),
            );
            true
        }
        Err(e) => {
            log.warn(
                &format!("send:{user}"),
                format!("e-mail to user {user} failed, retried every round: {e}"),
            );
            false
        }
    }
}

/// One notification e-mail: ASCII only (sent as 7bit, so links are never re-wrapped).
#[derive(Debug, Clone)]
pub struct Mail {
    /// The subject line.
    pub subject: String,
    /// The plain-text body, Indonesian then English.
    pub body: String,
}

fn links(base: &str, ids: &[String]) -> String {
    let mut out: String = ids
        .iter()
        .take(MAX_LINKS)
        .map(|id| format!("  {base}/desk/cases/{id}\n"))
        .collect();
    if ids.len() > MAX_LINKS {
        out.push_str(&format!(
            "  (+{} / {base}/desk/inbox)\n",
            ids.len() - MAX_LINKS
        ));
    }
    out
}

impl Mail {
    /// The e-mail about new cases.
    pub fn new_cases(base: &str, ids: &[String]) -> Mail {
        let n = ids.len();
        let subject = if n == 1 {
            "Berani: laporan baru masuk / a new report arrived".to_string()
        } else {
            format!("Berani: {n} laporan baru masuk / {n} new reports arrived")
        };
        let l = links(base, ids);
        let body = format!(
            "Laporan baru masuk di meja kasus Berani. Masuk ke meja kasus\n\
             untuk membacanya:\n\n\
             {l}\n\
             Asesmen awal jatuh tempo 24 jam setelah laporan diterima.\n\
             Isi laporan tidak pernah dikirim lewat e-mail.\n\
             Anda menerima e-mail ini karena sedang bertugas (piket).\n\n\
             --\n\n\
             A new report arrived at the Berani case desk. Log in to the desk\n\
             to read it:\n\n\
             {l}\n\
             The initial assessment is due 24 hours after the report was received.\n\
             Report content is never sent by e-mail.\n\
             You receive this e-mail because you are on duty.\n"
        );
        Mail { subject, body }
    }

    /// The warning about cases near (or past) their assessment deadline.
    pub fn deadline(base: &str, ids: &[String], on_duty: bool) -> Mail {
        let hours = WARN_BEFORE_SECS / 3600;
        let subject = "Berani: tenggat asesmen dekat / assessment deadline near".to_string();
        let l = links(base, ids);
        let (why_id, why_en) = if on_duty {
            (
                "Anda menerima e-mail ini karena sedang bertugas (piket).",
                "You receive this e-mail because you are on duty.",
            )
        } else {
            (
                "Anda menerima e-mail ini karena kasusnya ditugaskan kepada Anda.",
                "You receive this e-mail because the case is assigned to you.",
            )
        };
        let body = format!(
            "Asesmen awal kasus berikut jatuh tempo dalam {hours} jam\n\
             atau sudah lewat:\n\n\
             {l}\n\
             Isi laporan tidak pernah dikirim lewat e-mail.\n\
             {why_id}\n\n\
             --\n\n\
             The initial assessment of these cases is due within {hours} hours\n\
             or overdue:\n\n\
             {l}\n\
             Report content is never sent by e-mail.\n\
             {why_en}\n"
        );
        Mail { subject, body }
    }
}

/// Logs a lasting problem when it starts or changes, then at most once an hour.
#[derive(Debug, Default)]
pub struct QuietLog {
    active: HashMap<String, (String, Instant)>,
}

impl QuietLog {
    fn warn(&mut self, key: &str, msg: String) {
        let now = Instant::now();
        if let Some((last, at)) = self.active.get(key)
            && *last == msg
            && now.duration_since(*at) < REPEAT_LOG
        {
            return;
        }
        tracing::warn!("{msg}");
        self.active.insert(key.to_string(), (msg, now));
    }

    fn clear(&mut self, key: &str, msg: &str) {
        if self.active.remove(key).is_some() {
            tracing::info!("{msg}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mails_are_ascii_and_hold_only_links() {
        let ids = vec!["abc".to_string(), "def".to_string()];
        for m in [
            Mail::new_cases("https://x.example", &ids[..1]),
            Mail::new_cases("https://x.example", &ids),
            Mail::deadline("https://x.example", &ids, true),
            Mail::deadline("https://x.example", &ids, false),
        ] {
            assert!(m.subject.is_ascii() && m.body.is_ascii(), "{m:?}");
            assert!(m.body.lines().all(|l| l.len() < 76), "{m:?}");
            assert!(m.body.contains("https://x.example/desk/cases/abc\n"));
        }
        assert!(
            Mail::new_cases("h", &ids[..1])
                .subject
                .contains("a new report arrived")
        );
        assert!(Mail::new_cases("h", &ids).subject.contains("2 new reports"));
        let many: Vec<String> = (0..60).map(|i| format!("id{i}")).collect();
        let m = Mail::new_cases("h", &many);
        assert!(m.body.contains("h/desk/cases/id49\n") && !m.body.contains("id50"));
        assert!(m.body.contains("(+10 / h/desk/inbox)"));
    }

    #[test]
    fn bad_settings_are_refused_without_echoing_the_url() {
        let bad = |url: &str, from: &str| {
            Mailer::new(&SmtpConfig {
                url: url.into(),
                from: from.into(),
            })
            .err()
            .map(|e| e.to_string())
        };
        let e = bad("ftp://u:s3cret@host", "a@b.example").unwrap();
        assert!(e.contains("--smtp-url") && !e.contains("s3cret"), "{e}");
        let e = bad("smtp://host:25", "not an address").unwrap();
        assert!(e.contains("--smtp-from"), "{e}");
        let e = bad("smtp://host:25", " ").unwrap();
        assert!(e.contains("needs --smtp-from"), "{e}");
        assert!(bad("smtp://host:25", "Berani <berani@b.example>").is_none());
        assert!(bad("smtps://u:p@host:465", "berani@b.example").is_none());
        assert!(bad("smtp://u:p@host:587?tls=required", "berani@b.example").is_none());
    }
}
