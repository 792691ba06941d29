// What the report form and the receipt check share: bilingual messages, base64url, hex, and
// checking a flattened JWS (EdDSA) the way berani_core::jws does.
import { ed25519 } from '@noble/curves/ed25519.js';
import { base64urlnopad, base64 } from '@scure/base';

/** The core's field messages, rendered into the form's `data-messages`. */
export function messages(form) {
  const all = JSON.parse(form.dataset.messages || '{}');
  return (key, fallbackId, fallbackEn) => all[key] || [fallbackId, fallbackEn];
}

/** "Indonesian / English" in one line. */
export const both = ([id, en]) => `${id} / ${en}`;

export const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
export const b64url = base64urlnopad;
export const b64 = base64;
const utf8 = new TextDecoder();

/**
 * Checks a flattened JWS signed with Ed25519 under `key` ("ed25519:" + base64url) and of JWS
 * type `typ`; returns the payload's JSON. Throws on anything else.
 */
export function verifyJws(text, typ, key) {
  const jws = JSON.parse(text);
  if (typeof jws.protected !== 'string' || typeof jws.payload !== 'string' || typeof jws.signature !== 'string') {
    throw new Error('not a flattened JWS');
  }
  const header = JSON.parse(utf8.decode(b64url.decode(jws.protected)));
  if (header.alg !== 'EdDSA' || header.typ !== typ) throw new Error('wrong JWS type');
  const pub = b64url.decode(String(key).trim().replace(/^ed25519:/, ''));
  const input = new TextEncoder().encode(`${jws.protected}.${jws.payload}`);
  if (!ed25519.verify(b64url.decode(jws.signature), input, pub)) throw new Error('bad signature');
  return JSON.parse(utf8.decode(b64url.decode(jws.payload)));
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
