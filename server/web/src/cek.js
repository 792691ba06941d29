// The receipt check (/cek): the code typed by hand is turned into the lookup id, the auth value
// and the reporter's age identity in this browser (as berani_core::followup does); only the
// first two are sent. The team's replies are opened here with the identity.
import { Decrypter } from 'age-encryption';
import { both, b64, messages } from './common.js';
import { deriveKeys, parseCode } from './receipt.js';

const $ = (id) => document.getElementById(id);
const form = $('cek');

const STATUS = {
  received: 'Diterima / Received',
  in_progress: 'Sedang ditangani / Being handled',
  closed: 'Selesai / Closed',
};

if (form) {
  const msg = messages(form);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    $('cek-error').textContent = '';
    $('hasil').hidden = true;
    let code;
    try {
      code = parseCode($('kode').value);
    } catch (err) {
      $('kode').setAttribute('aria-invalid', 'true');
      $('cek-error').textContent = both(msg(`receipt.${err.reason}`));
      return;
    }
    $('kode').removeAttribute('aria-invalid');
    $('periksa').disabled = true;
    try {
      await check(code);
    } catch (err) {
      $('cek-error').textContent = both(
        err && err.bilingual ? err.bilingual : ['Tidak bisa memeriksa sekarang. Coba lagi nanti.', 'Cannot check now. Try again later.'],
      );
    } finally {
      $('cek-progress').textContent = '';
      $('periksa').disabled = false;
    }
  });
}

function fail(id, en) {
  const e = new Error(en);
  e.bilingual = [id, en];
  return e;
}

async function ask(path, body) {
  const resp = await fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    cache: 'no-store',
    credentials: 'omit',
  });
  if (resp.status === 403) {
    throw fail(
      'Kode tidak dikenali, atau laporannya belum sampai. Periksa kode, atau coba lagi nanti.',
      'The code is not recognised, or the report has not arrived yet. Check the code, or try again later.',
    );
  }
  if (resp.status === 429) {
    const s = resp.headers.get('Retry-After') || '60';
    throw fail(`Terlalu sering. Coba lagi dalam ${s} detik.`, `Too many tries. Try again in ${s} seconds.`);
  }
  if (!resp.ok) throw fail('Server tidak bisa menjawab sekarang.', 'The server cannot answer now.');
  return resp.json();
}

async function check(code) {
  $('cek-progress').textContent = 'Menghitung kunci dari kode… / Working out the keys from the code…';
  const keys = await deriveKeys(code.canonical);
  const proof = { lookup: keys.lookup, auth: keys.auth };
  $('cek-progress').textContent = 'Menghubungi server… / Contacting the server…';
  const status = await ask('/v1/followup/status', proof);
  const thread = await ask('/v1/followup/messages', proof);
  $('status').textContent = STATUS[status.status] || status.status;
  const items = [];
  for (const m of thread.messages || []) {
    const li = document.createElement('li');
    const when = new Date(m.at * 1000).toLocaleString('id-ID');
    const who = m.from === 'team' ? 'Tim / Team' : 'Anda / You';
    let text;
    try {
      const d = new Decrypter();
      d.addIdentity(keys.identity);
      const msg = JSON.parse(await d.decrypt(b64.decode(m.sealed), 'text'));
      // A message filed under another report or sender is dropped, as the core does.
      if (msg.v !== 1 || msg.report !== thread.report || msg.from !== m.from) continue;
      text = msg.text;
    } catch {
      // The reporter's own messages are sealed to the agency only: not readable here.
      text =
        m.from === 'reporter'
          ? '(pesan Anda, terkunci untuk petugas / your message, locked for the team)'
          : '(tidak bisa dibuka / cannot be opened)';
    }
    const head = document.createElement('strong');
    head.textContent = `${who} · ${when}`;
    const body = document.createElement('p');
    body.textContent = text;
    li.append(head, body);
    items.push(li);
  }
  if (!items.length) {
    const li = document.createElement('li');
    li.textContent = 'Belum ada pesan. / No messages yet.';
    items.push(li);
  }
  $('pesan').replaceChildren(...items);
  $('hasil').hidden = false;
}
