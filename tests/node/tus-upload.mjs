#!/usr/bin/env node
// Uploads one file to a tus endpoint with tus-js-client, the official JavaScript tus client,
// at its default settings. Berani's intake server must accept uploads from stock tus clients,
// not only from our own uploader, so the end-to-end tests run this script against it (and, until
// the server exists, against tusd) as an independent peer.
//
//   node tus-upload.mjs --endpoint URL --file PATH [--metadata JSON] [--meta KEY=VALUE]...
//                       [--chunk-size BYTES] [--stop-after-bytes N]
//                       [--upload-url URL] [--url-storage PATH] [--retry-delays JSON]
//
// Berani's metadata keys (report, part, parts, kind, sha256, token; docs/PROTOCOL.md) go in
// --metadata '{"report":"…",…}' and/or --meta report=…; they are sent as given, unchecked, so
// tests can also send wrong ones.
//
// --stop-after-bytes N interrupts the upload mid-request once this run has handed N bytes of
// file data to its PATCH requests: the request body stops there, and a moment later (so those
// bytes reach the server) the upload is aborted, as a dropped link would. Only the transport is
// wrapped for this; tus-js-client's own settings stay at their defaults. Resume with a second
// run, either with --upload-url (printed by the first run) or with the same --url-storage file
// (tus-js-client's findPreviousUploads / resumeFromPreviousUpload, keyed by the file's path,
// size and mtime).
//
// Prints one JSON object per line on stdout: start, resuming, upload_url, progress (every
// 64 KiB sent and at the end), chunk (bytes the server confirmed), then exactly one of success,
// stopped or error. Exits 0 on success or a requested stop, 1 on an upload error, 2 on bad
// arguments.

import fs from 'node:fs'
import { createRequire } from 'node:module'
import { Transform } from 'node:stream'
import { parseArgs } from 'node:util'

import tus from 'tus-js-client'

const require = createRequire(import.meta.url)
const clientVersion = require('tus-js-client/package.json').version
const PROGRESS_STEP = 64 * 1024
// How long an interrupted request stays open after its last byte, so that byte reaches the
// server before the connection is torn down.
const STOP_GRACE_MS = 300

function emit(event, fields = {}) {
  process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`)
}

function usage(message) {
  emit('error', { message, kind: 'usage' })
  process.exit(2)
}

function positiveInt(name, text) {
  if (text === undefined) return undefined
  if (!/^\d+$/.test(text)) usage(`--${name} must be a whole number of bytes, got ${text}`)
  return Number(text)
}

let args
try {
  args = parseArgs({
    options: {
      endpoint: { type: 'string' },
      file: { type: 'string' },
      metadata: { type: 'string' },
      meta: { type: 'string', multiple: true },
      'chunk-size': { type: 'string' },
      'stop-after-bytes': { type: 'string' },
      'upload-url': { type: 'string' },
      'url-storage': { type: 'string' },
      'retry-delays': { type: 'string' },
    },
    strict: true,
  }).values
} catch (e) {
  usage(e.message)
}

if (!args.file) usage('--file is required')
if (!args.endpoint && !args['upload-url']) usage('--endpoint or --upload-url is required')

const metadata = {}
if (args.metadata) {
  let parsed
  try {
    parsed = JSON.parse(args.metadata)
  } catch (e) {
    usage(`--metadata is not JSON: ${e.message}`)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    usage('--metadata must be a JSON object')
  }
  for (const [key, value] of Object.entries(parsed)) metadata[key] = String(value)
}
for (const pair of args.meta ?? []) {
  const at = pair.indexOf('=')
  if (at < 1) usage(`--meta wants KEY=VALUE, got ${pair}`)
  metadata[pair.slice(0, at)] = pair.slice(at + 1)
}

let size
try {
  size = fs.statSync(args.file).size
} catch (e) {
  usage(`cannot read --file: ${e.message}`)
}

const chunkSize = positiveInt('chunk-size', args['chunk-size'])
const stopAfter = positiveInt('stop-after-bytes', args['stop-after-bytes'])

// Only what the caller asked for is set; everything else stays at tus-js-client's defaults
// (one PATCH for the whole file, retry delays [0, 1000, 3000, 5000] ms, no upload during
// creation).
const options = { metadata }
if (args.endpoint) options.endpoint = args.endpoint
if (args['upload-url']) options.uploadUrl = args['upload-url']
if (chunkSize !== undefined) options.chunkSize = chunkSize
if (args['url-storage']) options.urlStorage = new tus.FileUrlStorage(args['url-storage'])
if (args['retry-delays']) {
  try {
    options.retryDelays = JSON.parse(args['retry-delays'])
  } catch (e) {
    usage(`--retry-delays is not JSON: ${e.message}`)
  }
}

let upload
let lastProgress = -PROGRESS_STEP

/**
 * Wraps tus-js-client's default HTTP stack so that PATCH bodies stop after `limit` bytes in
 * total, then calls `onLimit`.
 */
class InterruptingHttpStack {
  constructor(limit, onLimit) {
    this.inner = new tus.DefaultHttpStack()
    this.remaining = limit
    this.onLimit = onLimit
  }

  getName() {
    return `Interrupting(${this.inner.getName()})`
  }

  createRequest(method, url) {
    const req = this.inner.createRequest(method, url)
    const send = req.send.bind(req)
    req.send = (body) => {
      if (method !== 'PATCH' || body === null || body === undefined) return send(body)
      const stack = this
      let fired = false
      const limited = new Transform({
        transform(chunk, _encoding, callback) {
          if (stack.remaining > 0) {
            const part = chunk.subarray(0, stack.remaining)
            stack.remaining -= part.length
            this.push(part)
          }
          if (stack.remaining === 0 && !fired) {
            fired = true
            // Nothing more is read or sent; the body stays open until the abort.
            body.unpipe(limited)
            body.destroy()
            setTimeout(stack.onLimit, STOP_GRACE_MS)
          }
          callback()
        },
      })
      // The default stack takes Content-Length from the body's size.
      limited.size = body.size
      return send(body.pipe(limited))
    }
    return req
  }
}

if (stopAfter !== undefined) {
  options.httpStack = new InterruptingHttpStack(stopAfter, () => {
    // abort(false) keeps the upload on the server, as a lost connection would.
    upload
      .abort(false)
      .then(() => {
        emit('stopped', { bytes_sent: stopAfter, upload_url: upload.url })
        process.exit(0)
      })
      .catch((e) => {
        emit('error', { message: `abort failed: ${e.message}` })
        process.exit(1)
      })
  })
}

options.onUploadUrlAvailable = () => emit('upload_url', { url: upload.url })
options.onProgress = (bytesSent, bytesTotal) => {
  if (bytesSent - lastProgress >= PROGRESS_STEP || bytesSent === bytesTotal) {
    lastProgress = bytesSent
    emit('progress', { bytes_sent: bytesSent, bytes_total: bytesTotal })
  }
}
options.onChunkComplete = (chunk, bytesAccepted, bytesTotal) =>
  emit('chunk', { chunk_size: chunk, bytes_accepted: bytesAccepted, bytes_total: bytesTotal })
options.onSuccess = () => {
  emit('success', { upload_url: upload.url, bytes_total: size })
  process.exit(0)
}
options.onError = (error) => {
  const fields = { message: error.message }
  // DetailedError carries the HTTP exchange that failed; tests assert on the status.
  const res = error.originalResponse
  if (res) {
    fields.status = res.getStatus()
    fields.body = res.getBody()
  }
  emit('error', fields)
  process.exit(1)
}

// A file stream (not a Buffer) lets tus-js-client read slices from disk and fingerprint the
// file by path, size and mtime for the URL storage.
upload = new tus.Upload(fs.createReadStream(args.file), options)
emit('start', {
  client: 'tus-js-client',
  version: clientVersion,
  file: args.file,
  size,
  endpoint: args.endpoint ?? null,
  upload_url: args['upload-url'] ?? null,
})

if (!args['upload-url'] && args['url-storage']) {
  const previous = await upload.findPreviousUploads()
  if (previous.length > 0) {
    // The newest entry is the last one stored.
    const latest = previous[previous.length - 1]
    upload.resumeFromPreviousUpload(latest)
    emit('resuming', { upload_url: latest.uploadUrl, from: 'url-storage' })
  }
} else if (args['upload-url']) {
  emit('resuming', { upload_url: args['upload-url'], from: 'argument' })
}
upload.start()
