// /v1/datanets: datanets and their contributions over HTTP. The registry on L1
// is the record of provenance; this service relays registrations (paying the
// gas with its relayer key), keeps the content in a content-addressed store,
// and serves both.
//
//   POST /v1/datanets                          create (name, description, license, kind, curator), signed by its creator
//   GET  /v1/datanets                          list
//   GET  /v1/datanets/:id                      one datanet
//   POST /v1/datanets/:id/contributions        upload + register (text/plain body, or JSON)
//   GET  /v1/datanets/:id/contributions        list with provenance
//   GET  /v1/datanets/:id/contributions/:hash  provenance of one contribution
//   GET  /v1/datanets/:id/contributions/:hash/content   the bytes (checked against the hash)
import express, { type Express, type Request, type Response } from "express";
import { toBeHex, verifyTypedData, type Contract } from "ethers";
import { z } from "zod";
import { canonicalRecord, canonicalText, checkExactNumbers, ContentError, contributionHash, isWellFormed, KINDS, MAX_CONTENT_BYTES } from "../attribution/datanet/content.js";
import { join } from "node:path";
import { commitTokens, consentTypes, contributionTokenRoot, CREATE_DATANET_TYPES, describeRevert, findContribution, register, TOKEN_COMMITMENT_TYPES, listContributions, listDatanets, readDatanet, type DatanetInfo, type Provenance } from "../attribution/datanet/registry.js";
import { ContentCorruptedError, ContentMissingError, type ContentStore } from "../attribution/datanet/store.js";
import { DEFAULT_RELAY_LIMITS, RelayRateLimiter, UsedSignatures, type RelayLimits } from "./relay-guard.js";
import { describeIssues } from "./schemas.js";

export interface DatanetDeps {
  /** DatanetRegistry connected to the relayer's wallet. */
  registry: Contract;
  store: ContentStore;
  /** The registry's deployment block: event scans start there. */
  fromBlock: number;
  /** Limits on the writes this service relays and pays for (default: DEFAULT_RELAY_LIMITS). */
  relayLimits?: RelayLimits;
  /** Runs the relayer's transactions one at a time (shared with /v1/jobs, which registers base models with the same wallet). */
  serialize?: <T>(fn: () => Promise<T>) => Promise<T>;
}

/** One wallet's transactions, one at a time: ethers picks nonces per send, so concurrent sends collide. */
export function serializer(): <T>(fn: () => Promise<T>) => Promise<T> {
  let queue: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => {});
    return next;
  };
}

/** The longest a signed creation request may stay valid: it bounds how long the service must remember it. */
export const MAX_REQUEST_LIFETIME_S = 3600;

type Refuse = (res: Response, status: number, code: string, message: string, extra?: object) => void;

/** JSON escapes can make 64 KiB of text take up to 6x more; the canonical size is checked after parsing. */
export const DATANET_JSON_LIMIT = 6 * MAX_CONTENT_BYTES + 4096;

/** Body parsers for /v1/datanets, mounted before the app's 64 KiB JSON parser (body-parser skips parsed bodies). */
export function datanetParsers(): express.RequestHandler[] {
  return [
    express.raw({ type: "text/plain", limit: MAX_CONTENT_BYTES + 4096 }),
    // The raw text is kept: numbers that JSON.parse cannot hold exactly are refused from it.
    express.json({ limit: DATANET_JSON_LIMIT, strict: false, verify: (req, _res, buf) => void ((req as Request & { rawJson?: string }).rawJson = buf.toString("utf8")) }),
  ];
}

/** Revert names as error codes: ZeroCurator -> zero_curator. */
const revertCode = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();

/** HTTP status of a registry revert: a conflict with registered state, or a request the registry refuses. */
const REVERT_STATUS: Record<string, number> = { DuplicateContent: 409, InvalidContributorSignature: 401, UnknownDatanet: 404, UnknownContribution: 404 };

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "an address is 0x and 40 hex digits");
const signature = z.string().regex(/^0x[0-9a-fA-F]{130}$/, "a signature is 0x and 130 hex digits (65 bytes)");
const wellFormed = (s: string) => isWellFormed(s);
const NO_SURROGATE = "holds a lone UTF-16 surrogate, which has no UTF-8 form";
/** C0/C1 controls and the bidirectional embeddings, overrides and isolates. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/u;
const createSchema = z.strictObject({
  name: z.string().min(1, "a datanet needs a name").refine(wellFormed, NO_SURROGATE).refine((s) => Buffer.byteLength(s) <= 64, "at most 64 bytes")
    .refine((s) => !CONTROL.test(s), "holds a control or bidirectional-override character (NUL, a line break, U+202E …), which would make it display as another name"),
  description: z.string().refine(wellFormed, NO_SURROGATE).refine((s) => Buffer.byteLength(s) <= 1024, "at most 1024 bytes").default(""),
  license: z.string().min(1, "name the data's license, e.g. CC-BY-4.0").refine(wellFormed, NO_SURROGATE).refine((s) => Buffer.byteLength(s) <= 64, "at most 64 bytes"),
  kind: z.enum(KINDS as [string, ...string[]]),
  curator: address.refine((a) => BigInt(a) !== 0n, "the curator must not be the zero address"),
  creator: address,
  deadline: z.number().int("a deadline is whole unix seconds").nonnegative(),
  signature,
});
const uploadSchema = z.strictObject({ contributor: address, signature, tokenSignature: signature.optional(), text: z.string().optional(), record: z.unknown().optional() });

const view = (d: DatanetInfo) => ({ ...d, createdAt: new Date(d.createdAt * 1000).toISOString() });
const provenanceView = (p: Provenance) => ({
  ...p,
  tokenRoot: p.tokenRoot === 0n ? null : toBeHex(p.tokenRoot, 32),
  stake: p.stake.toString(),
  registeredAt: new Date(p.registeredAt * 1000).toISOString(),
  stakeUnlocksAt: new Date(p.stakeUnlocksAt * 1000).toISOString(),
});

export function registerDatanetRoutes(app: Express, deps: DatanetDeps | undefined, refuse: Refuse): void {
  const limiter = new RelayRateLimiter(deps?.relayLimits ?? DEFAULT_RELAY_LIMITS);
  const used = deps ? new UsedSignatures(join(deps.store.dir, "used-creation-signatures.txt")) : undefined;
  /** Counts one relayed write for `who`, or answers 429 and returns false. */
  const allowRelay = (res: Response, who: string): boolean => {
    const r = limiter.take(who);
    if (r.ok) return true;
    res.set("Retry-After", String(Math.ceil(r.retryAfterMs / 1000)));
    refuse(res, 429, "relay_rate_limited", r.scope === "address"
      ? `${who} has used its ${limiter.limits.perAddress} relayed writes for now; try again in ${Math.ceil(r.retryAfterMs / 1000)} s, or send the transaction to the registry yourself`
      : `this service relays at most ${limiter.limits.total} writes per ${limiter.limits.windowMs / 1000} s; try again in ${Math.ceil(r.retryAfterMs / 1000)} s`);
    return false;
  };
  // One relayer wallet: send its transactions one at a time so nonces never collide.
  const serialized = deps?.serialize ?? serializer();

  const handler = (fn: (d: DatanetDeps, req: Request, res: Response) => Promise<void>) => async (req: Request, res: Response) => {
    if (!deps) return refuse(res, 503, "datanets_unavailable", "this service runs without a DatanetRegistry (start it with --registry)");
    try {
      await fn(deps, req, res);
    } catch (e) {
      // Every revert of the registry becomes a named 4xx; anything else is a fault of this service.
      const reason = describeRevert(deps.registry, e);
      const name = /^([A-Z]\w*)\(/.exec(reason)?.[1];
      if (!name || res.headersSent) throw e;
      refuse(res, REVERT_STATUS[name] ?? 422, revertCode(name), `the DatanetRegistry refused the request: ${reason}`);
    }
  };

  /** The datanet named by :id, or a 404 already sent. */
  const datanetOf = async (d: DatanetDeps, req: Request, res: Response): Promise<DatanetInfo | undefined> => {
    const id = Number(req.params.id);
    if (!/^[1-9][0-9]{0,9}$/.test(String(req.params.id)) || id > Number(await d.registry.datanetCount())) {
      refuse(res, 404, "unknown_datanet", `no datanet ${req.params.id}`);
      return undefined;
    }
    return readDatanet(d.registry, id);
  };

  app.post("/v1/datanets", handler(async (d, req, res) => {
    const parsed = createSchema.safeParse(req.body);
    if (!parsed.success) {
      const issues = describeIssues(parsed.error);
      return refuse(res, 400, "invalid_body", issues.map((i) => `${i.field}: ${i.reason}`).join("; "), { issues });
    }
    const b = parsed.data;
    // The creator signs the request (EIP-712, the registry's domain): the relayer pays only for requests someone stands behind.
    const now = Math.floor(Date.now() / 1000);
    if (b.deadline < now) return refuse(res, 400, "request_expired", `the request's deadline ${b.deadline} has passed (now ${now})`);
    if (b.deadline > now + MAX_REQUEST_LIFETIME_S) return refuse(res, 400, "deadline_too_far", `a deadline is at most ${MAX_REQUEST_LIFETIME_S} s ahead (now ${now})`);
    const { domain } = await consentTypes(d.registry);
    let signer = "";
    try {
      signer = verifyTypedData(domain, CREATE_DATANET_TYPES, { name: b.name, description: b.description, license: b.license, kind: b.kind, curator: b.curator, creator: b.creator, deadline: b.deadline }, b.signature);
    } catch {
      signer = "";
    }
    if (signer.toLowerCase() !== b.creator.toLowerCase()) return refuse(res, 401, "invalid_signature", `the signature is not ${b.creator}'s EIP-712 CreateDatanet request for these fields`);
    if (used!.has(b.signature)) return refuse(res, 409, "request_used", "this signed request has created a datanet already; sign a new one");
    if (!allowRelay(res, b.creator)) return;
    used!.add(b.signature); // before L1: a crash after sending must not let the request be relayed twice
    const receipt = await serialized(async () => (await d.registry.createDatanet(b.name, b.description, b.license, KINDS.indexOf(b.kind as never), b.curator)).wait());
    const ev = receipt.logs.map((l: never) => d.registry.interface.parseLog(l)).find((l: { name: string } | null) => l?.name === "DatanetCreated");
    res.status(201).json({ datanet: view(await readDatanet(d.registry, Number(ev.args.datanetId))), txHash: receipt.hash });
  }));

  app.get("/v1/datanets", handler(async (d, _req, res) => void res.json({ datanets: (await listDatanets(d.registry)).map(view) })));

  app.get("/v1/datanets/:id", handler(async (d, req, res) => {
    const dn = await datanetOf(d, req, res);
    if (dn) res.json(view(dn));
  }));

  app.post("/v1/datanets/:id/contributions", handler(async (d, req, res) => {
    const dn = await datanetOf(d, req, res);
    if (!dn) return;
    // text/plain: raw bytes, contributor and signature in headers; JSON: { contributor, signature, text | record }.
    let contributor: string, sig: string, bytes: Uint8Array;
    let tokenSig: string | undefined; // optional: the contributor's consent to its token commitment (PROTOCOL §10)
    try {
      if (Buffer.isBuffer(req.body)) {
        const parsed = z.strictObject({ contributor: address, signature, "token-signature": signature.optional() }).safeParse({ contributor: req.get("x-contributor"), signature: req.get("x-signature"), "token-signature": req.get("x-token-signature") });
        if (!parsed.success) return refuse(res, 400, "invalid_headers", describeIssues(parsed.error).map((i) => `X-${i.field}: ${i.reason}`).join("; "));
        if (dn.kind !== "text") return refuse(res, 400, "wrong_kind", `datanet ${dn.id} takes JSON records: send { contributor, signature, record } as application/json`);
        ({ contributor, signature: sig, "token-signature": tokenSig } = parsed.data);
        bytes = canonicalText(req.body);
      } else {
        const parsed = uploadSchema.safeParse(req.body);
        if (!parsed.success) {
          const issues = describeIssues(parsed.error);
          return refuse(res, 400, "invalid_body", issues.map((i) => `${i.field}: ${i.reason}`).join("; "), { issues });
        }
        ({ contributor, signature: sig, tokenSignature: tokenSig } = parsed.data);
        const { text, record } = parsed.data;
        if (record !== undefined) checkExactNumbers((req as Request & { rawJson?: string }).rawJson ?? "");
        if (dn.kind === "text" && (text === undefined || record !== undefined)) return refuse(res, 400, "wrong_kind", `datanet ${dn.id} is a text datanet: send "text" (or a text/plain body)`);
        if (dn.kind === "json" && (record === undefined || text !== undefined)) return refuse(res, 400, "wrong_kind", `datanet ${dn.id} takes JSON records: send "record"`);
        bytes = dn.kind === "text" ? canonicalText(text!) : canonicalRecord(record);
      }
    } catch (e) {
      if (e instanceof ContentError) return refuse(res, e.code === "content_too_large" ? 413 : 400, e.code, e.message);
      throw e;
    }
    const contentHash = contributionHash(bytes);
    const existing = Number(await d.registry.contributionIdOf(dn.id, contentHash));
    if (existing) return refuse(res, 409, "duplicate_content", `datanet ${dn.id} already holds this content (contribution ${existing})`, { contentHash, contribution: existing });
    const { domain, types } = await consentTypes(d.registry);
    let signer: string;
    try {
      signer = verifyTypedData(domain, types, { datanetId: dn.id, contentHash, contributor }, sig);
    } catch {
      signer = "";
    }
    if (signer.toLowerCase() !== contributor.toLowerCase()) {
      return refuse(res, 401, "invalid_signature", `the signature is not ${contributor}'s EIP-712 consent to Contribution(datanetId ${dn.id}, contentHash ${contentHash})`);
    }
    // The token root is the content's (computed here, as anyone can); the consent must name it.
    const tokenRoot = tokenSig === undefined ? undefined : await contributionTokenRoot(bytes);
    if (tokenSig !== undefined) {
      let tokenSigner = "";
      try {
        tokenSigner = verifyTypedData(domain, TOKEN_COMMITMENT_TYPES, { datanetId: dn.id, contentHash, tokenRoot: toBeHex(tokenRoot!, 32) }, tokenSig);
      } catch {
        // not a signature of that message
      }
      if (tokenSigner.toLowerCase() !== contributor.toLowerCase()) {
        return refuse(res, 401, "invalid_token_signature", `the token signature is not ${contributor}'s EIP-712 consent to TokenCommitment(datanetId ${dn.id}, contentHash ${contentHash}, tokenRoot ${toBeHex(tokenRoot!, 32)}), the root of this content's tokens`);
      }
    }
    if (!allowRelay(res, contributor)) return;
    d.store.put(bytes); // before L1: registered content is never missing here
    let receipt;
    try {
      // Commit, then reveal in a later block: an observer of the reveal cannot register the content first.
      receipt = await serialized(() => register(d.registry, { datanetId: dn.id, contentHash, contributor, signature: sig }));
    } catch (e) {
      const again = Number(await d.registry.contributionIdOf(dn.id, contentHash));
      if (again) return refuse(res, 409, "duplicate_content", `datanet ${dn.id} already holds this content (contribution ${again})`, { contentHash, contribution: again });
      throw e;
    }
    if (tokenSig !== undefined) {
      const id = Number(await d.registry.contributionIdOf(dn.id, contentHash));
      try {
        await serialized(() => commitTokens(d.registry, { contributionId: id, tokenRoot: tokenRoot!, signature: tokenSig }));
      } catch (e) {
        // Registered, tokens not: say so, with the provenance; the contributor may commit them itself.
        const p = (await findContribution(d.registry, dn.id, contentHash, receipt.blockNumber))!;
        return refuse(res, 502, "token_commitment_failed", `contribution ${id} is registered, but relaying its token commitment failed: ${describeRevert(d.registry, e)}`, { contribution: provenanceView(p) });
      }
    }
    res.status(201).json(provenanceView((await findContribution(d.registry, dn.id, contentHash, receipt.blockNumber))!));
  }));

  app.get("/v1/datanets/:id/contributions", handler(async (d, req, res) => {
    const dn = await datanetOf(d, req, res);
    if (dn) res.json({ datanet: dn.id, contributions: (await listContributions(d.registry, dn.id, d.fromBlock)).map(provenanceView) });
  }));

  /** The contribution named by :hash in the datanet (and the datanet), or an error already sent. */
  const contributionOf = async (d: DatanetDeps, req: Request, res: Response): Promise<{ dn: DatanetInfo; p: Provenance } | undefined> => {
    const dn = await datanetOf(d, req, res);
    if (!dn) return undefined;
    const hash = String(req.params.hash).toLowerCase();
    if (!/^0x[0-9a-f]{64}$/.test(hash)) {
      refuse(res, 400, "invalid_hash", "a content hash is 0x and 64 hex digits (SHA-256 of the canonical bytes)");
      return undefined;
    }
    const p = await findContribution(d.registry, dn.id, hash, d.fromBlock);
    if (!p) return void refuse(res, 404, "unknown_contribution", `datanet ${dn.id} has no contribution ${hash}`);
    return { dn, p };
  };

  app.get("/v1/datanets/:id/contributions/:hash", handler(async (d, req, res) => {
    const found = await contributionOf(d, req, res);
    if (found) res.json(provenanceView(found.p));
  }));

  app.get("/v1/datanets/:id/contributions/:hash/content", handler(async (d, req, res) => {
    const found = await contributionOf(d, req, res);
    if (!found) return;
    const { dn, p } = found;
    try {
      const bytes = d.store.get(p.contentHash);
      res.type(dn.kind === "text" ? "text/plain; charset=utf-8" : "application/json").send(bytes);
    } catch (e) {
      // Registered directly on L1 without an upload here, or damaged on disk.
      if (e instanceof ContentMissingError) return refuse(res, 404, "content_not_stored", `${p.contentHash} is registered on L1 but its bytes were never uploaded to this service`);
      if (e instanceof ContentCorruptedError) return refuse(res, 500, "content_corrupted", e.message);
      throw e;
    }
  }));
}
