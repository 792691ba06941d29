// The receipt code and the keys derived from it, exactly as berani_core::followup makes them:
// 100 random bits as 20 Crockford base32 characters plus a mod-37 check character, then
// Argon2id (m = 19 MiB, t = 2, p = 1, fixed domain salt) into a master key and HKDF-SHA-256
// per label for the lookup id, the auth value and the reporter's X25519 (age) identity.
import { argon2id } from 'hash-wasm';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bech32 } from '@scure/base';
import { identityToRecipient } from 'age-encryption';
import { b64url, hex } from './common.js';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CHECK_SYMBOLS = CROCKFORD + '*~$=U';
const CODE_CHARS = 20;

function fromValue(v) {
  let canonical = '';
  for (let i = 0; i < CODE_CHARS; i++) {
    const shift = BigInt(5 * (CODE_CHARS - 1 - i));
    canonical += CROCKFORD[Number((v >> shift) & 31n)];
  }
  const check = CHECK_SYMBOLS[Number(v % 37n)];
  const groups = canonical.match(/.{4}/g).join('-');
  return { canonical, display: `${groups}-${check}` };
}

/** A fresh random code: the top 100 bits of 16 random bytes, as the core takes them. */
export function generateCode() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return fromValue(v >> 28n);
}

/**
 * Reads a code as typed: case, spaces and dashes do not matter, O is zero, I and L are one.
 * Throws `{field: 'receipt', reason}` with reason `invalid_format` or `mistyped`.
 */
export function parseCode(typed) {
  const chars = Array.from(typed)
    .filter((c) => !/\s/.test(c) && !'-_.'.includes(c))
    .map((c) => {
      const u = c.toUpperCase();
      if (u === 'O') return '0';
      if (u === 'I' || u === 'L') return '1';
      return u.length === 1 && u.charCodeAt(0) < 128 ? u : '?';
    });
  if (chars.length !== CODE_CHARS + 1) throw { field: 'receipt', reason: 'invalid_format' };
  let v = 0n;
  for (const c of chars.slice(0, CODE_CHARS)) {
    const d = CROCKFORD.indexOf(c);
    if (d < 0) throw { field: 'receipt', reason: 'invalid_format' };
    v = (v << 5n) | BigInt(d);
  }
  const code = fromValue(v);
  if (chars[CODE_CHARS] !== code.display.slice(-1)) throw { field: 'receipt', reason: 'mistyped' };
  return code;
}

const enc = new TextEncoder();
const label = (s) => enc.encode(s);

/** The lookup id, the auth value, and the age identity and recipient of a code. */
export async function deriveKeys(canonical) {
  const master = await argon2id({
    password: canonical,
    salt: 'berani/v1/followup-receipt',
    parallelism: 1,
    iterations: 2,
    memorySize: 19 * 1024,
    hashLength: 32,
    outputType: 'binary',
  });
  const empty = new Uint8Array(0);
  const lookup = hkdf(sha256, master, empty, label('berani/v1/followup/lookup'), 32);
  const auth = hkdf(sha256, master, empty, label('berani/v1/followup/auth'), 32);
  const secret = hkdf(sha256, master, empty, label('berani/v1/followup/x25519'), 32);
  master.fill(0);
  const identity = bech32.encode('age-secret-key-', bech32.toWords(secret), false).toUpperCase();
  secret.fill(0);
  return {
    lookup: hex(lookup.subarray(0, 16)),
    auth: b64url.encode(auth),
    identity,
    recipient: await identityToRecipient(identity),
  };
}
