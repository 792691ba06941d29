// The web report form (/lapor). Everything the app's core does at submit happens here, in the
// browser: the report document (schema 1, part 0) and one part per attachment are sealed with
// age (typage) to the recipients of the signed agency profile, uploaded with tus to
// /v1/uploads with the same Upload-Metadata as the core, the signed receipt is fetched and
// checked, and the receipt code is shown. The server never sees plaintext.
import { Encrypter } from 'age-encryption';
import * as tus from 'tus-js-client';
import { sha256 } from '@noble/hashes/sha2.js';
import { both, b64url, hex, messages, sleep, verifyJws } from './common.js';
import { deriveKeys, generateCode } from './receipt.js';

const $ = (id) => document.getElementById(id);
const form = $('lapor');
const REPORT_SCHEMA_VERSION = 1;
const MAX_ATTACHMENTS = 20;
const MAX_DESCRIPTION_CHARS = 20000;
const MAX_DETAIL_CHARS = 500;
/** Longest side of a redrawn photo, in pixels. */
const MAX_PHOTO_SIDE = 4096;
/** tus chunk: four age chunks (64 KiB + 16 bytes each), as the core's first request. */
const CHUNK = 4 * 65552;

if (form) setUp();

function setUp() {
  const msg = messages(form);
  const draftedAt = new Date().toISOString();
  const photos = []; // {name, blob}
  let voice = null; // {blob, mime}
  // Once sealed, the same report (id, token, code, sealed parts) is what a retry sends, so a
  // second press never makes a second report.
  let prepared = null;

  // In danger now: the emergency numbers at once.
  $('in_danger_now').addEventListener('change', (e) => {
    $('bahaya').hidden = !e.target.checked;
    if (e.target.checked) $('bahaya').scrollIntoView({ block: 'nearest' });
  });

  // Villages follow the chosen district.
  const village = $('village');
  const allVillages = Array.from(village.options).slice(1);
  $('district').addEventListener('change', (e) => {
    const d = e.target.value;
    village.value = '';
    for (const o of allVillages) {
      o.hidden = o.disabled = d !== '' && o.dataset.d !== d;
    }
  });

  // Dates: show the inputs the chosen kind needs.
  const dateKind = $('date_kind');
  const syncDates = () => {
    $('date_from').hidden = dateKind.value === 'unknown';
    $('date_to').hidden = dateKind.value !== 'approximate';
  };
  dateKind.addEventListener('change', syncDates);
  syncDates();

  // Photos: redrawn through a canvas into a new JPEG, which carries no EXIF (no GPS, time or
  // phone model). A photo that cannot be redrawn is not attached, as in the app.
  $('photos').addEventListener('change', async (e) => {
    const errors = [];
    for (const file of Array.from(e.target.files)) {
      try {
        photos.push({ name: file.name, blob: await redraw(file) });
      } catch {
        errors.push(both(msg('attachment.metadata_not_removed')) + ` (${file.name})`);
      }
    }
    e.target.value = '';
    listPhotos();
    showErrors(errors);
  });
  function listPhotos() {
    const ul = $('photo-list');
    ul.replaceChildren(
      ...photos.map((p, i) => {
        const li = document.createElement('li');
        li.textContent = `${p.name} — ${Math.ceil(p.blob.size / 1024)} KB `;
        const rm = document.createElement('button');
        rm.type = 'button';
        rm.textContent = 'Hapus / Remove';
        rm.addEventListener('click', () => {
          photos.splice(i, 1);
          listPhotos();
        });
        li.append(rm);
        return li;
      }),
    );
  }

  // Voice note: MediaRecorder where the browser has it.
  setUpVoice((v) => (voice = v));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (prepared) return submit();
    const { fields, errors } = readFields(msg, voice);
    const attachments = [
      ...photos.map((p) => ({ kind: 'photo', mime: 'image/jpeg', blob: p.blob })),
      ...(voice ? [{ kind: 'audio', mime: voice.mime, blob: voice.blob }] : []),
    ];
    const max = Number(form.dataset.maxBytes);
    if (attachments.length > MAX_ATTACHMENTS) errors.push(['attachment', msg('attachment.too_many')]);
    if (attachments.some((a) => a.blob.size > max)) errors.push(['attachment', msg('attachment.too_large')]);
    showErrors(errors.map(([, m]) => both(m)));
    markFields(errors.map(([f]) => f));
    if (errors.length) return;
    try {
      $('kirim').disabled = true;
      prepared = await prepare(fields, attachments, draftedAt);
    } catch (err) {
      return failed(err);
    }
    // The answers are sealed: they can no longer change.
    for (const el of form.querySelectorAll('fieldset, input, select, textarea')) el.disabled = true;
    return submit();
  });

  function failed(err) {
    progress('');
    showErrors([err && err.bilingual ? both(err.bilingual) : both(['Laporan belum terkirim. Periksa sinyal lalu tekan kirim lagi.', 'The report was not sent. Check the signal and press send again.'])]);
    $('kirim').disabled = false;
  }

  async function submit() {
    $('kirim').disabled = true;
    showErrors([]);
    try {
      const code = await deliver(prepared);
      $('kode').textContent = code;
      form.hidden = true;
      $('tanda-terima').hidden = false;
      $('tanda-terima').scrollIntoView();
      const volunteer = form.dataset.volunteer;
      if (volunteer) countForVolunteer(volunteer);
    } catch (err) {
      failed(err);
    }
  }
}

function progress(text) {
  $('progress').textContent = text;
}

function showErrors(list) {
  $('errors').replaceChildren(
    ...list.map((t) => {
      const li = document.createElement('li');
      li.textContent = t;
      return li;
    }),
  );
}

function markFields(names) {
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  for (const n of names) {
    const el = $(n) || $(`f-${n}`);
    if (el) el.setAttribute('aria-invalid', 'true');
  }
}

const value = (id) => {
  const v = $(id).value.trim();
  return v === '' ? null : v;
};

function today() {
  const d = new Date();
  return new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()));
}

function checkDay(s) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s || '')) return 'invalid_format';
  const d = new Date(`${s}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return 'invalid_format';
  // One day of slack, as in the core: the phone's clock and time zone may be off.
  if (d.getTime() > today().getTime() + 86400000) return 'in_future';
  return null;
}

/** The answers as the core's ReportFields, and every field that is wrong. */
function readFields(msg, voice) {
  const errors = [];
  const picked = form.querySelector('input[name=category]:checked');
  const category = picked ? picked.value : null;
  if (!category) errors.push(['category', msg('category.required')]);

  let incident_date = null;
  const kind = $('date_kind').value;
  if (kind === 'exact') {
    const why = checkDay($('date_from').value);
    if (why) errors.push(['incident_date', msg(`incident_date.${why}`)]);
    incident_date = { kind: 'exact', date: $('date_from').value };
  } else if (kind === 'approximate') {
    const from = $('date_from').value;
    const to = $('date_to').value;
    const why = checkDay(from) || checkDay(to);
    if (why) errors.push(['incident_date', msg(`incident_date.${why}`)]);
    else if (from > to) errors.push(['incident_date', msg('incident_date.invalid_range')]);
    incident_date = { kind: 'approximate', from, to };
  } else {
    incident_date = { kind: 'unknown' };
  }

  const district = value('district');
  if (!district) errors.push(['district', msg('district.required')]);
  let villageCode = value('village');
  if (villageCode) {
    const opt = $('village').selectedOptions[0];
    if (!opt || opt.dataset.d !== district) errors.push(['village', msg('village.not_in_district')]);
  }
  const detail = value('location_detail');
  if (detail && Array.from(detail).length > MAX_DETAIL_CHARS) {
    errors.push(['location_detail', msg('location_detail.too_long')]);
  }
  const description = value('description');
  if (description && Array.from(description).length > MAX_DESCRIPTION_CHARS) {
    errors.push(['description', msg('description.too_long')]);
  }
  // A voice note with no text is a complete report.
  if (!description && !voice) errors.push(['description', msg('description.text_or_voice_note_required')]);

  let contact = null;
  if ($('contact_ok').checked) {
    const n = $('contact_number').value.replace(/[ \-.()]/g, '');
    const digits = n.startsWith('+') ? n.slice(1) : n;
    if (!/^[0-9]{8,15}$/.test(digits)) errors.push(['contact_number', msg('contact_number.invalid_format')]);
    contact = { method: $('contact_method').value, number: n };
  }
  const fields = {
    category,
    victim_sex: value('victim_sex'),
    victim_age_band: value('victim_age_band'),
    reporter_role: value('reporter_role'),
    in_danger_now: $('in_danger_now').checked,
    incident_date,
    location: { district, village: villageCode, detail },
    place_type: value('place_type'),
    perpetrator_relationship: value('perpetrator_relationship'),
    description,
    contact,
  };
  return { fields, errors };
}

async function redraw(file) {
  const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  const scale = Math.min(1, MAX_PHOTO_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  const blob = await new Promise((r) => canvas.toBlob(r, 'image/jpeg', 0.85));
  if (!blob) throw new Error('the photo could not be redrawn');
  return blob;
}

function setUpVoice(set) {
  const start = $('rekam');
  const stop = $('stop');
  const del = $('hapus-suara');
  const state = $('voice-state');
  const preview = $('voice-preview');
  if (!window.MediaRecorder || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    $('voice-unsupported').hidden = false;
    start.hidden = stop.hidden = true;
    return;
  }
  const type = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/mp4', 'audio/webm'].find(
    (t) => MediaRecorder.isTypeSupported(t),
  );
  let recorder = null;
  start.addEventListener('click', async () => {
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch {
      state.textContent = 'Mikrofon tidak bisa dipakai. / The microphone cannot be used.';
      return;
    }
    const chunks = [];
    recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
    recorder.addEventListener('dataavailable', (e) => e.data.size && chunks.push(e.data));
    recorder.addEventListener('stop', () => {
      for (const t of stream.getTracks()) t.stop();
      const mime = (recorder.mimeType || type || 'audio/webm').split(';')[0];
      const blob = new Blob(chunks, { type: mime });
      set({ blob, mime });
      preview.src = URL.createObjectURL(blob);
      preview.hidden = false;
      del.hidden = false;
      state.textContent = `Rekaman siap (${Math.ceil(blob.size / 1024)} KB). / Recording ready.`;
    });
    recorder.start(1000);
    start.disabled = true;
    stop.disabled = false;
    state.textContent = 'Merekam… / Recording…';
  });
  stop.addEventListener('click', () => {
    if (recorder && recorder.state !== 'inactive') recorder.stop();
    start.disabled = false;
    stop.disabled = true;
  });
  del.addEventListener('click', () => {
    set(null);
    preview.hidden = true;
    del.hidden = true;
    preview.removeAttribute('src');
    state.textContent = '';
  });
}

function fail(id, en) {
  const e = new Error(en);
  e.bilingual = [id, en];
  return e;
}

/** The signed profile, checked as the core checks it, under the key the page names. */
async function loadProfile() {
  const resp = await fetch('/v1/profile', { cache: 'no-store', credentials: 'omit' });
  if (!resp.ok) throw fail('Profil lembaga tidak bisa diambil.', 'The agency profile could not be fetched.');
  let p;
  try {
    p = verifyJws(await resp.text(), 'berani-profile+json', form.dataset.profileKey);
  } catch {
    throw fail('Profil lembaga ditolak: tanda tangan tidak sah.', 'The agency profile was refused: the signature is not valid.');
  }
  const ok =
    p.schema_version === 1 &&
    Array.isArray(p.recipients) &&
    p.recipients.length > 0 &&
    p.recipients.every((r) => typeof r === 'string' && r.startsWith('age1')) &&
    new Date(p.expires_at).getTime() > Date.now() &&
    new URL(p.intake_url).origin === location.origin;
  if (!ok) throw fail('Profil lembaga ditolak.', 'The agency profile was refused.');
  return p;
}

function randomHex(n) {
  return hex(crypto.getRandomValues(new Uint8Array(n)));
}

async function seal(recipients, bytes) {
  const e = new Encrypter();
  for (const r of recipients) e.addRecipient(r);
  return await e.encrypt(bytes);
}

/** Seals the report: nothing leaves the browser yet. */
async function prepare(fields, attachments, draftedAt) {
  if (!window.isSecureContext) {
    throw fail('Formulir ini hanya bekerja lewat https.', 'This form works only over https.');
  }
  progress('Mengambil profil lembaga… / Fetching the agency profile…');
  const profile = await loadProfile();
  progress('Membuat kode laporan… / Making the report code…');
  const code = generateCode();
  const keys = await deriveKeys(code.canonical);
  const reportId = randomHex(16);
  const token = b64url.encode(crypto.getRandomValues(new Uint8Array(32)));

  progress('Mengunci laporan… / Locking the report…');
  const parts = [];
  const refs = [];
  for (const [i, a] of attachments.entries()) {
    const plain = new Uint8Array(await a.blob.arrayBuffer());
    refs.push({ part: i + 1, kind: a.kind, mime: a.mime, size: plain.length, sha256: hex(sha256(plain)) });
    parts.push(await seal(profile.recipients, plain));
    plain.fill(0);
  }
  const doc = {
    schema_version: REPORT_SCHEMA_VERSION,
    report_id: reportId,
    regency: profile.regency_code,
    profile_version: profile.version,
    drafted_at: draftedAt,
    submitted_at: new Date().toISOString(),
    ...fields,
    attachments: refs,
    reporter_recipient: keys.recipient,
  };
  const json = new TextEncoder().encode(JSON.stringify(doc));
  parts.unshift(await seal(profile.recipients, json));
  json.fill(0);
  const sealed = parts.map((bytes) => ({ bytes, sha256: hex(sha256(bytes)) }));
  progress('');
  return { profile, code, keys, reportId, token, sealed };
}

/** Uploads a sealed report (again, after a failure: the server keeps each part once). */
async function deliver({ profile, code, keys, reportId, token, sealed }) {

  // The report document first, then attachments smallest first, as the core's outbox does.
  const order = sealed.map((_, i) => i).sort((a, b) => (a === 0 ? -1 : b === 0 ? 1 : sealed[a].bytes.length - sealed[b].bytes.length));
  const total = sealed.reduce((n, p) => n + p.bytes.length, 0);
  let done = 0;
  for (const idx of order) {
    const p = sealed[idx];
    const metadata = {
      report: reportId,
      part: String(idx),
      parts: String(sealed.length),
      kind: idx === 0 ? 'report' : 'attachment',
      sha256: p.sha256,
      token,
    };
    if (idx === 0) {
      metadata.followup = keys.lookup;
      metadata.followup_auth = keys.auth;
    }
    await upload(p.bytes, metadata, (sent) => {
      const pct = Math.floor(((done + sent) / total) * 100);
      progress(`Mengirim… ${pct}% / Sending… ${pct}%`);
    });
    done += p.bytes.length;
  }
  progress('Menunggu tanda terima server… / Waiting for the server\'s receipt…');
  await checkReceipt(profile, reportId, token, sealed);
  progress('');
  return code.display;
}

function upload(bytes, metadata, onProgress) {
  return new Promise((resolve, reject) => {
    const up = new tus.Upload(new Blob([bytes]), {
      endpoint: `${location.origin}/v1/uploads`,
      metadata,
      chunkSize: CHUNK,
      uploadDataDuringCreation: true,
      // Retries resume from the server's offset (HEAD), over a link that drops.
      retryDelays: [0, 1000, 3000, 5000, 10000, 20000, 30000, 60000, 60000, 60000],
      // Nothing about the upload is kept in the browser's storage on a shared phone.
      storeFingerprintForResuming: false,
      removeFingerprintOnSuccess: true,
      onProgress: (sent) => onProgress(sent),
      onSuccess: () => resolve(),
      onError: (err) => reject(err),
    });
    up.start();
  });
}

/** The signed receipt: every part's size and hash must be what was sealed. */
async function checkReceipt(profile, reportId, token, sealed) {
  for (const wait of [0, 1000, 2000, 4000, 8000, 16000]) {
    await sleep(wait);
    const resp = await fetch(`/v1/reports/${reportId}/receipt`, {
      headers: { Authorization: `Bearer ${token}` },
      cache: 'no-store',
      credentials: 'omit',
    });
    if (resp.status === 404) continue;
    if (!resp.ok) break;
    const text = await resp.text();
    // A profile without a receipt key cannot prove delivery; its receipts are read unverified.
    const r = profile.receipt_key
      ? verifyJws(text, 'berani-receipt+json', profile.receipt_key)
      : JSON.parse(new TextDecoder().decode(b64url.decode(JSON.parse(text).payload)));
    const match =
      r.report === reportId &&
      r.parts.length === sealed.length &&
      r.parts.every((p) => sealed[p.part] && sealed[p.part].bytes.length === p.size && sealed[p.part].sha256 === p.sha256);
    if (!match) throw fail('Server menjawab dengan tanda terima yang tidak cocok.', 'The server answered with a receipt that does not match.');
    return;
  }
  throw fail('Laporan terkirim, tetapi tanda terima belum datang. Tekan kirim lagi.', 'The report was sent, but the receipt has not come. Press send again.');
}

/** Counts one web report for the volunteer whose link was used; carries nothing else. */
function countForVolunteer(code) {
  fetch('/v1/volunteers/web-reports', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ code }),
    credentials: 'omit',
    cache: 'no-store',
  }).catch(() => {});
}
