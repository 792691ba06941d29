#!/usr/bin/env python3
"""Uploads one file to a tus endpoint with tuspy, the official Python tus client.

Berani's intake server must accept uploads from stock tus clients, not only from our own
uploader, so the end-to-end tests run this script against it (and, until the server exists,
against tusd) as an independent peer. tuspy's Uploader is used at its default settings: one
PATCH for the whole file, no checksum, no retries; only what a flag asks for is changed.

    tus_upload.py --endpoint URL --file PATH [--metadata JSON] [--meta KEY=VALUE]...
                  [--chunk-size BYTES] [--stop-after-bytes N]
                  [--upload-url URL] [--url-storage PATH]

Berani's metadata keys (report, part, parts, kind, sha256, token; docs/PROTOCOL.md) go in
--metadata '{"report": "...", ...}' and/or --meta report=...; they are sent as given, unchecked,
so tests can also send wrong ones.

--stop-after-bytes N stops with tuspy's own ``stop_at``: the upload ends cleanly once the server
has confirmed offset N (tuspy sizes the last PATCH so that it ends exactly there). Unlike the
Node peer, this is not a cut mid-request: tuspy reads each chunk into memory and sends it with
one ``requests`` call, which cannot be interrupted from outside without patching tuspy. Resume
with a second run given --upload-url (printed by the first), or the same --url-storage file
(tuspy's store_url with its FileStorage, keyed by a fingerprint of the file's content).

Prints one JSON object per line on stdout: start, resuming, upload_url, chunk (offset the server
confirmed after each PATCH), then exactly one of success, stopped or error. Exits 0 on success
or a requested stop, 1 on an upload error, 2 on bad arguments.
"""

import argparse
import json
import os
import sys
from importlib.metadata import version

from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError


def emit(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


class Parser(argparse.ArgumentParser):
    def error(self, message):
        emit("error", message=message, kind="usage")
        sys.exit(2)


def parse_args():
    p = Parser(description=__doc__.split("\n\n")[0])
    p.add_argument("--endpoint", help="the tus creation URL")
    p.add_argument("--file", required=True, help="the file to upload")
    p.add_argument("--metadata", help="Upload-Metadata as a JSON object of strings")
    p.add_argument("--meta", action="append", default=[], help="one metadata KEY=VALUE")
    p.add_argument("--chunk-size", type=int, help="bytes per PATCH (default: the whole file)")
    p.add_argument("--stop-after-bytes", type=int, help="stop once the server holds N bytes")
    p.add_argument("--upload-url", help="resume this upload (HEAD, then PATCH from its offset)")
    p.add_argument("--url-storage", help="a file where tuspy stores upload URLs for resuming")
    args = p.parse_args()
    if not args.endpoint and not args.upload_url:
        p.error("--endpoint or --upload-url is required")
    for name in ("chunk_size", "stop_after_bytes"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            p.error(f"--{name.replace('_', '-')} must be positive")
    metadata = {}
    if args.metadata:
        try:
            parsed = json.loads(args.metadata)
        except json.JSONDecodeError as e:
            p.error(f"--metadata is not JSON: {e}")
        if not isinstance(parsed, dict):
            p.error("--metadata must be a JSON object")
        metadata.update({str(k): str(v) for k, v in parsed.items()})
    for pair in args.meta:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            p.error(f"--meta wants KEY=VALUE, got {pair}")
        metadata[key] = value
    args.metadata = metadata
    if not os.path.isfile(args.file):
        p.error(f"cannot read --file: {args.file}")
    return args


def main():
    args = parse_args()
    size = os.path.getsize(args.file)
    emit(
        "start",
        client="tuspy",
        version=version("tuspy"),
        file=args.file,
        size=size,
        endpoint=args.endpoint,
        upload_url=args.upload_url,
    )

    options = {"metadata": args.metadata}
    if args.chunk_size is not None:
        options["chunk_size"] = args.chunk_size
    if args.upload_url:
        options["url"] = args.upload_url
    if args.url_storage:
        # Imported only when used: it pulls in tinydb.
        from tusclient.storage.filestorage import FileStorage

        options["store_url"] = True
        options["url_storage"] = FileStorage(args.url_storage)

    uploader = None
    try:
        # Without an endpoint tuspy needs no client: the upload URL is enough to resume.
        tus = tus_client.TusClient(args.endpoint or args.upload_url)
        # Given a URL (or finding one in the storage), the constructor asks the server for
        # the offset with HEAD.
        uploader = tus.uploader(file_path=args.file, **options)
        if uploader.url:
            source = "argument" if args.upload_url else "url-storage"
            emit("resuming", upload_url=uploader.url, offset=uploader.offset, **{"from": source})
        else:
            # What Uploader.upload() does first, done here so the URL is printed before data.
            uploader.set_url(uploader.create_url())
            uploader.offset = 0
        emit("upload_url", url=uploader.url)

        # Uploader.upload(stop_at) is exactly this loop; it is spelled out to report each chunk.
        stop_at = min(args.stop_after_bytes or size, size)
        uploader.stop_at = stop_at
        while uploader.offset < stop_at:
            uploader.upload_chunk()
            emit("chunk", offset=uploader.offset, bytes_total=size)
    except TusCommunicationError as e:
        fields = {"message": str(e) or repr(e)}
        if e.status_code is not None:
            fields["status"] = e.status_code
        if e.response_content:
            fields["body"] = e.response_content.decode("utf-8", "replace")
        if uploader is not None and uploader.url:
            fields["upload_url"] = uploader.url
        emit("error", **fields)
        return 1
    except Exception as e:  # noqa: BLE001 - any failure is reported as one JSON line
        emit("error", message=f"{type(e).__name__}: {e}")
        return 1

    if uploader.offset < size:
        emit("stopped", offset=uploader.offset, bytes_total=size, upload_url=uploader.url)
    else:
        emit("success", upload_url=uploader.url, bytes_total=size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
