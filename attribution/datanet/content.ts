// What a contribution's bytes are, and the hash the registry keeps.
//
// A datanet is either "text" or "json". A contribution's canonical bytes:
//   text: valid UTF-8, Unicode NFC, line ends as \n;
//   json: one JSON object, keys sorted by UTF-16 code units at every depth, no
//         whitespace, strings and numbers as JSON.stringify writes them
//         (RFC 8785's canonical form for the JSON that JavaScript produces).
// Its content hash is SHA-256 of those bytes. Two uploads that differ only in
// key order, line ends or Unicode normalization are the same contribution.
import { createHash } from "node:crypto";

export type DatanetKind = "text" | "json";
export const KINDS: readonly DatanetKind[] = ["text", "json"];

/** The largest contribution, in canonical bytes. */
export const MAX_CONTENT_BYTES = 64 * 1024;

export class ContentError extends Error {
  constructor(
    readonly code: "empty_content" | "content_too_large" | "invalid_utf8" | "not_a_record",
    message: string,
  ) {
    super(message);
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Canonical bytes of a text contribution given as raw bytes or a string. */
export function canonicalText(input: Uint8Array | string): Uint8Array {
  let text: string;
  if (typeof input === "string") {
    text = input;
  } else {
    try {
      text = utf8.decode(input);
    } catch {
      throw new ContentError("invalid_utf8", "text content is not valid UTF-8");
    }
  }
  text = text.normalize("NFC").replace(/\r\n?/g, "\n");
  if (text.trim().length === 0) throw new ContentError("empty_content", "text content is empty (or only whitespace)");
  return limit(new TextEncoder().encode(text));
}

/** Canonical bytes of a JSON record (a parsed object). */
export function canonicalRecord(record: unknown): Uint8Array {
  if (record === null || typeof record !== "object" || Array.isArray(record)) {
    throw new ContentError("not_a_record", "a json datanet takes one JSON object per contribution");
  }
  if (Object.keys(record).length === 0) throw new ContentError("empty_content", "the record has no fields");
  return limit(new TextEncoder().encode(canonicalJson(record)));
}

export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const keys = Object.keys(v).sort(); // default sort compares UTF-16 code units
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  const s = JSON.stringify(v);
  if (s === undefined) throw new ContentError("not_a_record", `a record holds JSON values only, not ${typeof v}`);
  return s;
}

function limit(bytes: Uint8Array): Uint8Array {
  if (bytes.length > MAX_CONTENT_BYTES) {
    throw new ContentError("content_too_large", `content is ${bytes.length} bytes; the limit is ${MAX_CONTENT_BYTES} (64 KiB) of canonical bytes`);
  }
  return bytes;
}

/** SHA-256 of canonical bytes as 0x-prefixed hex: the registry's contentHash (bytes32). */
export function contributionHash(bytes: Uint8Array): string {
  return `0x${createHash("sha256").update(bytes).digest("hex")}`;
}
