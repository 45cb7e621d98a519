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
/** How deep a JSON record may nest, and how many values it may hold: canonicalJson recurses. */
export const MAX_RECORD_DEPTH = 32;
export const MAX_RECORD_VALUES = 10_000;

export class ContentError extends Error {
  constructor(
    readonly code: "empty_content" | "content_too_large" | "invalid_utf8" | "not_a_record" | "record_too_complex" | "inexact_number",
    message: string,
  ) {
    super(message);
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** False when a string holds a lone UTF-16 surrogate (String.prototype.isWellFormed, ES2024). */
export function isWellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

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
  // A lone surrogate has no UTF-8 form: TextEncoder would store U+FFFD in its place.
  if (!isWellFormed(text)) throw new ContentError("invalid_utf8", "text content holds a lone UTF-16 surrogate, which has no UTF-8 form");
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
  checkShape(record);
  return limit(new TextEncoder().encode(canonicalJson(record)));
}

/** Bounds a record's nesting and size without recursion, before anything recurses over it. */
function checkShape(record: object): void {
  const stack: [unknown, number][] = [[record, 1]];
  let values = 0;
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (++values > MAX_RECORD_VALUES) throw new ContentError("record_too_complex", `a record holds at most ${MAX_RECORD_VALUES} values (keys and array items included)`);
    if (v === null || typeof v !== "object") continue;
    if (depth > MAX_RECORD_DEPTH) throw new ContentError("record_too_complex", `a record nests at most ${MAX_RECORD_DEPTH} levels of objects and arrays`);
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
}

/**
 * Refuses a JSON text whose numbers do not survive parsing: 12345678901234567890
 * (not a double), 1e400 (infinite), -0 (its sign is lost). Canonical bytes are
 * written from the parsed value, so such a number would be stored as another one.
 */
export function checkExactNumbers(json: string): void {
  const number = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      for (i++; i < json.length && json[i] !== '"'; i++) if (json[i] === "\\") i++;
    } else if (c === "-" || (c >= "0" && c <= "9")) {
      number.lastIndex = i;
      const token = number.exec(json)?.[0];
      if (!token) return; // not JSON: the parser has refused it already
      const value = Number(token);
      if (!Number.isFinite(value) || Object.is(value, -0) || token === "-0" || decimal(token) !== decimal(String(value))) {
        throw new ContentError("inexact_number", `the number ${token.slice(0, 40)} cannot be stored exactly (only finite IEEE-754 doubles that round-trip, and not -0); send it as a string`);
      }
      i += token.length - 1;
    }
  }
}

/** A decimal number's value as sign, significant digits and exponent: equal strings mean equal values. */
function decimal(token: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(token)!;
  const digits = `${m[2]}${m[3] ?? ""}`;
  let exp = Number(m[4] ?? 0) - (m[3]?.length ?? 0);
  const trimmed = digits.replace(/^0+/, "");
  if (trimmed === "") return "0";
  const sig = trimmed.replace(/0+$/, "");
  exp += trimmed.length - sig.length;
  return `${m[1]}${sig}e${exp}`;
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
