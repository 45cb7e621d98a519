// The weights file of a base model or a LoRA adapter: one self-describing file
// whose SHA-256 is the artifact hash registered on L1 and the key of the
// content-addressed store.
//   bytes 0-7   magic "POALM\0\1\0"
//   bytes 8-11  header length H (u32 LE, a multiple of 4)
//   12..12+H    header: JSON, padded with spaces
//   then        the parameters as float32 LE, in the layout of the header's config
import { createHash } from "node:crypto";
import { Adapter, Transformer, baseLayout, loraLayout, type LMConfig, type LoraConfig } from "./transformer.js";

const MAGIC = Buffer.from([0x50, 0x4f, 0x41, 0x4c, 0x4d, 0, 1, 0]);

export interface WeightsHeader {
  format: "poa-lm/1";
  kind: "base" | "adapter";
  config: LMConfig;
  /** Adapters: rank, alpha, target projections. */
  lora?: LoraConfig;
  /** Adapters: the artifact hash of the base they were trained on. */
  base?: string;
  /** Free-form provenance (seed, steps, corpus hash, ...). */
  meta?: Record<string, unknown>;
}

export function sha256Hex(bytes: Uint8Array): string {
  return `0x${createHash("sha256").update(bytes).digest("hex")}`;
}

export function encodeWeights(header: WeightsHeader, params: Float32Array): Buffer {
  const expected = header.kind === "base" ? baseLayout(header.config).size : loraLayout(header.config, requireLora(header)).size;
  if (params.length !== expected) throw new Error(`${params.length} parameters for a ${header.kind} that needs ${expected}`);
  let json = JSON.stringify(header);
  while (Buffer.byteLength(json) % 4 !== 0) json += " ";
  const head = Buffer.from(json);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(head.length);
  const body = Buffer.alloc(params.length * 4);
  for (let i = 0; i < params.length; i++) body.writeFloatLE(params[i], i * 4);
  return Buffer.concat([MAGIC, len, head, body]);
}

export function decodeWeights(bytes: Uint8Array): { header: WeightsHeader; params: Float32Array } {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 12 || !b.subarray(0, 8).equals(MAGIC)) throw new Error("not a poa-lm weights file (bad magic)");
  const h = b.readUInt32LE(8);
  if (12 + h > b.length) throw new Error(`weights header of ${h} bytes runs past the end of the file`);
  let header: WeightsHeader;
  try {
    header = JSON.parse(b.subarray(12, 12 + h).toString("utf8"));
  } catch {
    throw new Error("weights header is not valid JSON");
  }
  if (header.format !== "poa-lm/1") throw new Error(`unsupported weights format ${String(header.format)}`);
  const size = header.kind === "base" ? baseLayout(header.config).size : loraLayout(header.config, requireLora(header)).size;
  if (b.length - 12 - h !== size * 4) throw new Error(`weights file holds ${(b.length - 12 - h) / 4} floats; its header's ${header.kind} needs ${size}`);
  const params = new Float32Array(size);
  for (let i = 0; i < size; i++) params[i] = b.readFloatLE(12 + h + i * 4);
  return { header, params };
}

function requireLora(h: WeightsHeader): LoraConfig {
  if (!h.lora) throw new Error("an adapter's weights header needs its lora config");
  return h.lora;
}

export function loadBase(bytes: Uint8Array): Transformer {
  const { header, params } = decodeWeights(bytes);
  if (header.kind !== "base") throw new Error(`expected base weights, got ${header.kind}`);
  return new Transformer(header.config, params);
}

/** Loads an adapter and checks that it belongs to `base` (by the base's artifact hash). */
export function loadAdapter(bytes: Uint8Array, base: Transformer, baseHash: string): Adapter {
  const { header, params } = decodeWeights(bytes);
  if (header.kind !== "adapter") throw new Error(`expected adapter weights, got ${header.kind}`);
  if (header.base !== baseHash) throw new Error(`adapter was trained on base ${header.base}, not ${baseHash}`);
  if (JSON.stringify(header.config) !== JSON.stringify(base.config)) throw new Error("adapter's model config differs from its base's");
  return new Adapter(base.config, requireLora(header), params);
}
