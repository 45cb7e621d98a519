// The OpenAPI description served at GET /v1/openapi.json. test/api.test.ts
// checks that it names exactly the routes the app serves and the status codes
// they answer.
import { leafCapacity, ticketShape, type BatchParams } from "../core/params.js";

const uint = (description: string) => ({ type: "string", pattern: "^(0|[1-9][0-9]*)$", description });
const address = { type: "string", pattern: "^0x[0-9a-fA-F]{40}$" };
const error = { description: "refused; body: { error: { code, message, issues? } }", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
const datanetId = { name: "id", in: "path", required: true, schema: { type: "integer", minimum: 1 } };
const contentHash = { name: "hash", in: "path", required: true, schema: { type: "string", pattern: "^0x[0-9a-fA-F]{64}$" } };
const jobId = { name: "id", in: "path", required: true, schema: { type: "integer", minimum: 1 } };
const modelId = { name: "id", in: "path", required: true, schema: { type: "integer", minimum: 1 }, description: "ModelRegistry id" };
const json = (ref: string, description: string) => ({ description, content: { "application/json": { schema: { $ref: `#/components/schemas/${ref}` } } } });

export function openapi(p: BatchParams): Record<string, unknown> {
  const ingestResponses = {
    "202": json("Accepted", "stored on disk, receipts accepted"),
    "200": json("Accepted", "the same bundle again: the first answer"),
    "400": error,
    "401": error,
    "409": error,
    "413": error,
    "415": error,
    "422": error,
  };
  const t = ticketShape(p);
  // Payment tickets (docs/PROTOCOL.md §16), in an instance with ticket steps.
  const ticketPaths = t.enabled
    ? {
      "/v1/ticket-bundles": {
        post: {
          summary: `Submit a signed bundle of up to ${4 ** t.treeDepth} payment tickets (one signature over their sum tree); the provider pays their expected value into the ticket pool when a batch commits it, and winners are paid at face value once L1 records the commit batch's beacon`,
          requestBody: { required: true, content: { "application/json": { schema: { $ref: "#/components/schemas/TicketBundle" } } } },
          responses: { "202": json("TicketsAccepted", "stored on disk, tickets accepted"), "200": json("TicketsAccepted", "the same bundle again: the first answer"), "400": error, "401": error, "409": error, "413": error, "415": error, "422": error, "429": error },
        },
      },
      "/v1/explorer/tickets": {
        get: {
          summary: "The ticket pool over finalized batches (paid in by commits, paid out to winners, balance), ticket counts (committed, won, paid, waiting) and the latest committed bundles with their beacon and every winner",
          parameters: [
            { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 100, default: 20 } },
            { name: "before", in: "query", description: "only bundles with a smaller id (the next page: the last id of this one)", schema: { type: "integer", minimum: 1 } },
          ],
          responses: { "200": { description: "{ pool, tickets, bundles }" }, "400": error },
        },
      },
      "/v1/accounts/{address}/tickets": {
        get: {
          summary: "An address's ticket earnings in finalized batches: expected (the payout rule at every committed ticket's expected value) against realized (at face value over paid winners), cumulative per batch",
          parameters: [{ name: "address", in: "path", required: true, schema: address }],
          responses: { "200": { description: "{ address, tickets, won, paid, expected, realized, series: { batch, at, expected, realized }[] }" }, "400": error },
        },
      },
    }
    : {};
  const ticketSchemas = t.enabled
    ? {
      Ticket: {
        type: "object", additionalProperties: false, required: ["owner", "face", "winProb", "inputHash", "outputHash", "entries"],
        description: "ticket j of a bundle is the receipt (providerIdx, nonce = firstNonce + j) with fee = face; it wins iff the low 32 bits of Poseidon(Poseidon(receiptHash, winProb), beacon) are below winProb",
        properties: {
          owner: address, face: uint(`face value in OPEN base units, < 2^${p.feeBits}; face × winProb must be a multiple of 2^32`), winProb: uint("win probability × 2^32, in [1, 2^32)"),
          inputHash: uint("as a receipt's"), outputHash: uint("as a receipt's"),
          entries: { type: "array", maxItems: p.entries, items: { type: "object", additionalProperties: false, required: ["contributor", "score"], properties: { contributor: address, score: uint(`< 2^${p.scoreBits}`) } } },
        },
      },
      TicketBundle: {
        type: "object", additionalProperties: false, required: ["providerIdx", "firstNonce", "tickets", "signature"],
        description: "signed message: Poseidon(domain, providerIdx, firstNonce, count, rootHash, rootSum) over the 4-ary Poseidon sum tree of (ticketHash, face × winProb / 2^32)",
        properties: { providerIdx: { type: "integer", minimum: 0, maximum: leafCapacity(p) - 1 }, firstNonce: uint("the provider's next nonce; the bundle takes one per ticket"), tickets: { type: "array", minItems: 1, maxItems: 4 ** t.treeDepth, items: { $ref: "#/components/schemas/Ticket" } }, signature: { $ref: "#/components/schemas/Signature" } },
      },
      TicketStatus: {
        type: "object",
        properties: {
          id: { type: "string", description: "the ticket's hash" }, kind: { const: "ticket" }, status: { type: "string", description: "of its bundle: accepted, rejected, or the status of the batch that committed it" },
          bundle: { type: "integer" }, position: { type: "integer" }, batch: { type: ["integer", "null"], description: "the batch that committed it" }, beacon: { type: ["string", "null"], description: "that batch's L1 beacon, once recorded" },
          winProb: uint("× 2^32"), face: uint("OPEN base units"), expectedValue: uint("face × winProb / 2^32: what the ticket pays in expectation"),
          owner: { type: "object", description: "{ address, expected, paid }: the model owner's share at the expected value and, once paid, at face value" },
          entries: { type: "array", items: { type: "object", properties: { contributor: address, score: uint("as signed"), expected: uint("the payout rule's share at the expected value"), paid: { type: ["string", "null"], description: "the share at face value, once paid" } } } },
          outcome: { enum: ["pending", "won", "lost"] }, paidIn: { type: ["integer", "null"], description: "the batch that paid it at face value" }, paidStatus: { type: ["string", "null"] }, error: { type: ["string", "null"] },
        },
      },
      TicketsAccepted: { type: "object", properties: { ticketBundle: { type: "integer" }, rootSum: uint("the bundle's expected value, paid into the pool at commit"), tickets: { type: "array", items: { $ref: "#/components/schemas/TicketStatus" } } } },
    }
    : {};
  return {
    openapi: "3.1.0",
    info: { title: "poa-rollup sequencer", version: "0.1.0", description: "Signed inference receipts in, proved batches on L1 out. Withdrawals are requested on L1 only (AttributionRollup.requestWithdrawal), so the sequencer cannot ignore them." },
    paths: {
      "/v1/bundles": { post: { summary: "Submit a signed bundle of receipts", requestBody: { required: true, content: { "application/json": { schema: { $ref: "#/components/schemas/Bundle" } } } }, responses: ingestResponses } },
      "/v1/receipts": { post: { summary: "Submit one signed receipt (a bundle of one)", requestBody: { required: true, content: { "application/json": { schema: { $ref: "#/components/schemas/SingleReceipt" } } } }, responses: ingestResponses } },
      "/v1/receipts/{id}": {
        get: {
          summary: t.enabled ? "Receipt status, or a payment ticket's: its outcome under the beacon and the batch that paid it" : "Receipt status",
          parameters: [{ name: "id", in: "path", required: true, schema: { type: "string", pattern: "^0x[0-9a-fA-F]{64}$" } }],
          responses: {
            "200": t.enabled ? { description: "status", content: { "application/json": { schema: { oneOf: [{ $ref: "#/components/schemas/ReceiptStatus" }, { $ref: "#/components/schemas/TicketStatus" }] } } } } : json("ReceiptStatus", "status"),
            "400": error, "404": error,
          },
        },
      },
      ...ticketPaths,
      "/v1/accounts/{ref}": { get: { summary: "Account at the latest finalized root, with its Merkle proof", parameters: [{ name: "ref", in: "path", required: true, schema: { type: "string" }, description: "leaf index or 0x address" }], responses: { "200": json("Account", "account"), "400": error, "404": error } } },
      "/v1/batches": { get: { summary: "Batches, newest first, each with its status pipeline (timeline of statuses with times), receipts, L1 transaction and gas", parameters: [{ name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 100, default: 20 } }, { name: "before", in: "query", schema: { type: "integer", minimum: 1 }, description: "only batches numbered below this (paging)" }], responses: { "200": { description: "{ batches: BatchSummary[], latest }" }, "400": error } } },
      "/v1/batches/{n}/decoded": { get: { summary: "A batch's public data as readable rows: deposits and withdrawals, bundles (provider, receipts, fees), credits per account with addresses, new accounts; with its summary", parameters: [{ name: "n", in: "path", required: true, schema: { type: "integer", minimum: 1 } }], responses: { "200": { description: "BatchSummary & { ops, bundleRecords, credits, newAccounts }" }, "400": error, "404": error } } },
      "/v1/explorer/overview": { get: { summary: "The explorer's overview: latest batches, receipts per second (last 5 minutes), median proving time, L1 gas per receipt, queue depth, and the trust status of the proving key in words", responses: { "200": { description: "{ latest, counts, receiptsPerSecond, provingMsMedian, gasPerReceipt, queue, trust }" } } } },
      "/v1/explorer/totals": { get: { summary: "Earnings paid out (contributors and owners, finalized batches) per model and per datanet, with receipt counts, as providers declared them", responses: { "200": { description: "{ byModel: { id, amount, receipts }[], byDatanet: { id, amount, receipts }[] }" } } } },
      "/v1/explorer/chain": { get: { summary: "What a browser needs to check a proof against L1 itself: chain id, rollup address, instance and its parameters, a public JSON-RPC URL (or null)", responses: { "200": { description: "{ chainId, rollup, instance, rpcUrl, params }" } } } },
      "/v1/accounts/{address}/earnings": { get: { summary: "An address's earnings from finalized batches (history per batch with the running total; by kind, by model, by datanet and by contribution as declared by providers), its deposits and withdrawals, withdrawal requests not yet in a batch, and what it can claim on L1", parameters: [{ name: "address", in: "path", required: true, schema: { type: "string" } }], responses: { "200": { description: "{ address, total, history, byKind, byModel, byDatanet, byContribution, deposits, withdrawals, pendingWithdrawals, claimable }" }, "400": error } } },
      "/v1/search": { get: { summary: "Find a batch (number or L1 transaction hash), a receipt (id) or an account (address)", parameters: [{ name: "q", in: "query", required: true, schema: { type: "string" } }], responses: { "200": { description: "{ kind: batch, number } | { kind: receipt, id } | { kind: account, address }" }, "400": error, "404": error } } },
      "/v1/verification-key": { get: { summary: "The batch circuit's Groth16 verification key (snarkjs JSON)", responses: { "200": { description: "application/json" } } } },
      "/v1/events": { get: { summary: "Server-sent events: `batch` ({ number, status, at }) on every seal and status change, `bundle` ({ id, count }) on every accepted bundle", responses: { "200": { description: "text/event-stream" } } } },
      "/v1/batches/{n}": { get: { summary: "A batch: status, public data, proof, transaction", parameters: [{ name: "n", in: "path", required: true, schema: { type: "integer", minimum: 1 } }], responses: { "200": json("Batch", "batch"), "400": error, "404": error } } },
      "/v1/datanets": {
        post: { summary: "Create a datanet on L1 (the relayer pays the gas)", requestBody: { required: true, content: { "application/json": { schema: { $ref: "#/components/schemas/DatanetCreate" } } } }, responses: { "201": json("DatanetCreated", "created"), "400": error, "401": error, "409": error, "415": error, "422": error, "429": error, "503": error } },
        get: { summary: "List datanets", responses: { "200": { description: "{ datanets: Datanet[] }" }, "503": error } },
      },
      "/v1/datanets/{id}": { get: { summary: "One datanet", parameters: [datanetId], responses: { "200": json("Datanet", "datanet"), "404": error, "503": error } } },
      "/v1/datanets/{id}/contributions": {
        post: {
          summary: `Upload a contribution and register it on L1 (at most ${64 * 1024} canonical bytes)`,
          description: "text datanets: a text/plain body (UTF-8) with X-Contributor and X-Signature headers, or JSON { contributor, signature, text }; json datanets: JSON { contributor, signature, record }. The signature is the contributor's EIP-712 consent Contribution(datanetId, contentHash, contributor) for DatanetRegistry; contentHash is SHA-256 of the canonical bytes (docs/PROTOCOL.md). Optional: tokenSignature (or an X-Token-Signature header), the contributor's consent TokenCommitment(datanetId, contentHash, tokenRoot) to the root of the content's tokens, which the service computes and relays to commitTokensFor after the registration (401 invalid_token_signature when it names another root; 502 token_commitment_failed, with the contribution, when the registration landed and the commitment did not).",
          parameters: [datanetId],
          requestBody: { required: true, content: { "application/json": { schema: { $ref: "#/components/schemas/ContributionUpload" } }, "text/plain": { schema: { type: "string" } } } },
          responses: { "201": json("Provenance", "stored and registered"), "400": error, "401": error, "404": error, "409": error, "413": error, "415": error, "422": error, "429": error, "503": error },
        },
        get: { summary: "A datanet's contributions with provenance", parameters: [datanetId], responses: { "200": { description: "{ datanet, contributions: Provenance[] }" }, "404": error, "503": error } },
      },
      "/v1/datanets/{id}/contributions/{hash}": { get: { summary: "Provenance of one contribution", parameters: [datanetId, contentHash], responses: { "200": json("Provenance", "provenance"), "400": error, "404": error, "503": error } } },
      "/v1/datanets/{id}/contributions/{hash}/content": { get: { summary: "The contribution's canonical bytes, checked against its hash", parameters: [datanetId, contentHash], responses: { "200": { description: "text/plain or application/json" }, "400": error, "404": error, "500": error, "503": error } } },
      "/v1/dev-accounts": { get: { summary: "Local chain only: the dev accounts whose publications this service signs (empty elsewhere)", responses: { "200": { description: "{ accounts: { address, label }[] }" } } } },
      "/v1/base-models": { get: { summary: "Base language models this service fine-tunes, with their artifact hash and ModelRegistry id", responses: { "200": { description: "{ bases: { preset, config, available, artifactHash, parameters, heldOutLoss, modelId }[] }" }, "503": error } } },
      "/v1/jobs": {
        post: { summary: "Create a fine-tuning job; its training set (non-slashed contributions of the datanets) is snapshotted now", requestBody: { required: true, content: { "application/json": { schema: { $ref: "#/components/schemas/JobSpec" } } } }, responses: { "201": json("Job", "queued"), "400": error, "404": error, "415": error, "503": error } },
        get: { summary: "List jobs, newest first", responses: { "200": { description: "{ jobs: Job[] }" }, "503": error } },
      },
      "/v1/jobs/{id}": { get: { summary: "A job with its loss curve", parameters: [jobId], responses: { "200": json("Job", "job with progress"), "404": error, "503": error } } },
      "/v1/jobs/{id}/events": { get: { summary: "Server-sent events: `job` (the job, on every state change and checkpoint) and `progress` ({ step, steps, loss, lr, tokensPerSecond })", parameters: [jobId], responses: { "200": { description: "text/event-stream" }, "404": error, "503": error } } },
      "/v1/jobs/{id}/cancel": { post: { summary: "Cancel a queued, running or interrupted job (a running one stops before its next step)", parameters: [jobId], responses: { "200": json("Job", "job"), "404": error, "409": error, "503": error } } },
      "/v1/jobs/{id}/resume": { post: { summary: "Queue an interrupted or failed job again; it continues from its last checkpoint", parameters: [jobId], responses: { "200": json("Job", "job"), "404": error, "409": error, "503": error } } },
      "/v1/jobs/{id}/generate": { post: { summary: "Try a finished job: a completion from the adapter (and the base's, with compare), or a classifier's label", parameters: [jobId], requestBody: { content: { "application/json": { schema: { $ref: "#/components/schemas/Generate" } } } }, responses: { "200": { description: "{ text, tokens, finishReason, ms, base? } or { label, probabilities, contributors }" }, "400": error, "404": error, "409": error, "503": error } } },
      "/v1/jobs/{id}/registration": { post: { summary: "The exact ModelRegistry.register arguments for a finished job (registers its base first when needed)", parameters: [jobId], responses: { "200": { description: "{ kind, parent, artifactHash, configHash, metricsHash, contributionIds, trainingSetRoot, datanets, registry }" }, "404": error, "409": error, "422": error, "503": error } } },
      "/v1/jobs/{id}/publish": { post: { summary: "Register a finished job's model on L1: signed here for a local dev account, or given the txHash of the owner's own register()", parameters: [jobId], requestBody: { content: { "application/json": { schema: { $ref: "#/components/schemas/Publish" } } } }, responses: { "201": { description: "{ job, model }" }, "400": error, "403": error, "404": error, "409": error, "422": error, "503": error } } },
      "/v1/models": { get: { summary: "ModelRegistry entries, joined with the jobs that made them here", responses: { "200": { description: "{ models: Model[] }" }, "503": error } } },
      "/v1/models/{id}": { get: { summary: "One registered model: lineage, training set, hashes, price", parameters: [modelId], responses: { "200": json("Model", "model"), "404": error, "503": error } } },
      "/v1/models/{id}/config": { get: { summary: "The model's configuration as canonical JSON ({ spec, trainingSetRoot, … }; its SHA-256 is the registered config hash)", parameters: [modelId], responses: { "200": { description: "application/json" }, "404": error, "503": error } } },
      "/v1/models/{id}/artifact": { get: { summary: "The model's weights file from the content-addressed store (its SHA-256 is the registered artifact hash)", parameters: [modelId], responses: { "200": { description: "application/octet-stream" }, "404": error, "503": error } } },
      "/": { get: { summary: "Redirects to the web app at /app/", responses: { "302": { description: "to /app/" } } } },
      "/app/vendor/{file}": { get: { summary: "Browser libraries of the web app (Preact, htm, uPlot), served locally", parameters: [{ name: "file", in: "path", required: true, schema: { type: "string" } }], responses: { "200": { description: "JavaScript or CSS" }, "404": error } } },
      "/healthz": { get: { summary: "Liveness and pipeline counts", responses: { "200": { description: "ok" } } } },
      "/metrics": { get: { summary: "Prometheus metrics", responses: { "200": { description: "text/plain; version=0.0.4" } } } },
      "/v1/openapi.json": { get: { summary: "This document", responses: { "200": { description: "OpenAPI 3.1" } } } },
    },
    components: {
      schemas: {
        Receipt: {
          type: "object",
          additionalProperties: false,
          required: ["providerIdx", "owner", "fee", "nonce", "inputHash", "outputHash", "entries"],
          properties: {
            providerIdx: { type: "integer", minimum: 0, maximum: leafCapacity(p) - 1 },
            owner: address,
            fee: uint(`OPEN base units, < 2^${p.feeBits}`),
            nonce: uint("the provider's next nonce, consecutive within a bundle"),
            inputHash: uint("first 31 bytes of SHA-256 of the input, as an integer"),
            outputHash: uint("first 31 bytes of SHA-256 of the output, as an integer"),
            entries: { type: "array", maxItems: p.entries, items: { type: "object", additionalProperties: false, required: ["contributor", "score"], properties: { contributor: address, score: uint(`< 2^${p.scoreBits}`) } } },
          },
        },
        Signature: { type: "object", additionalProperties: false, required: ["R8x", "R8y", "S"], properties: { R8x: uint("field element"), R8y: uint("field element"), S: uint("scalar") } },
        Bundle: { type: "object", additionalProperties: false, required: ["receipts", "signature"], properties: { receipts: { type: "array", minItems: 1, maxItems: p.bundleSize, items: { $ref: "#/components/schemas/Receipt" } }, signature: { $ref: "#/components/schemas/Signature" } } },
        SingleReceipt: { type: "object", additionalProperties: false, required: ["receipt", "signature"], properties: { receipt: { $ref: "#/components/schemas/Receipt" }, signature: { $ref: "#/components/schemas/Signature" } } },
        ReceiptStatus: { type: "object", properties: { id: { type: "string" }, status: { enum: ["accepted", "rejected", "batched", "proving", "proved", "submitted", "finalized", "failed"] }, bundle: { type: "integer" }, position: { type: "integer" }, batch: { type: ["integer", "null"] }, txHash: { type: ["string", "null"] }, error: { type: ["string", "null"] } } },
        Accepted: { type: "object", properties: { bundle: { type: "integer" }, receipts: { type: "array", items: { $ref: "#/components/schemas/ReceiptStatus" } } } },
        Account: { type: "object", properties: { index: { type: "integer" }, address, balance: uint("OPEN base units"), nonce: uint("nonce at the finalized root"), nextNonce: uint("the nonce the next bundle must start at (counts accepted and sealed receipts)"), available: uint("fees a bundle accepted now may spend: the sealed balance less the fees of accepted, unsealed bundles"), publicKey: { type: ["object", "null"] }, root: { type: "string" }, siblings: { type: "array", description: "per level of the 4-ary tree, from the leaf up: the parent's three other children in order", items: { type: "array", minItems: 3, maxItems: 3, items: { type: "string" } } } } },
        Batch: { type: "object", properties: { number: { type: "integer" }, status: { type: "string" }, oldRoot: { type: "string" }, newRoot: { type: "string" }, firstOp: { type: "integer" }, ops: { type: "integer" }, body: { type: "string" }, proof: { type: ["object", "null"] }, txHash: { type: ["string", "null"] }, receipts: { type: "array", items: { type: "string" } }, proofAttempts: { type: "array", description: "every proof asked for: worker, prover (native, snarkjs; null where no proof was made), outcome (proved, bad_proof, failed, false_refusal), ms, error, at", items: { type: "object" } } } },
        DatanetCreate: { type: "object", additionalProperties: false, description: "signed by its creator: EIP-712 CreateDatanet(string name,string description,string license,string kind,address curator,address creator,uint256 deadline) under the DatanetRegistry's domain; each signature is relayed once", required: ["name", "license", "kind", "curator", "creator", "deadline", "signature"], properties: { creator: address, deadline: { type: "integer", description: "unix seconds, at most one hour ahead" }, signature: { type: "string", pattern: "^0x[0-9a-fA-F]{130}$" }, name: { type: "string", minLength: 1, description: "at most 64 bytes" }, description: { type: "string", description: "at most 1024 bytes" }, license: { type: "string", description: "e.g. an SPDX id, at most 64 bytes" }, kind: { enum: ["text", "json"] }, curator: address } },
        Datanet: { type: "object", properties: { id: { type: "integer" }, name: { type: "string" }, description: { type: "string" }, license: { type: "string" }, kind: { enum: ["text", "json"] }, curator: address, createdAt: { type: "string", format: "date-time" }, contributions: { type: "integer" } } },
        DatanetCreated: { type: "object", properties: { datanet: { $ref: "#/components/schemas/Datanet" }, txHash: { type: "string" } } },
        ContributionUpload: { type: "object", additionalProperties: false, required: ["contributor", "signature"], properties: { contributor: address, signature: { type: "string", pattern: "^0x[0-9a-fA-F]{130}$" }, text: { type: "string" }, record: { type: "object" } } },
        Provenance: { type: "object", properties: { id: { type: "integer" }, datanetId: { type: "integer" }, contentHash: { type: "string" }, contributor: address, registeredAt: { type: "string", format: "date-time" }, stake: uint("OPEN base units"), stakeUnlocksAt: { type: "string", format: "date-time" }, slashed: { type: "boolean" }, committedAt: { type: "integer", description: "block of the commitment the registration revealed" }, tokenRoot: { type: ["string", "null"], description: "root of the contribution's token commitment on L1 (DatanetRegistry.tokenRootOf, docs/PROTOCOL.md §11.1), null when none is committed" }, txHash: { type: "string" }, blockNumber: { type: "integer" } } },
        JobSpec: {
          oneOf: [
            { type: "object", additionalProperties: false, required: ["method", "name", "owner", "datanets"], properties: { method: { const: "lora" }, name: { type: "string", maxLength: 64 }, owner: address, datanets: { type: "array", minItems: 1, maxItems: 16, items: { type: "integer", minimum: 1 } }, base: { type: "string", default: "small" }, lora: { type: "object", properties: { rank: { type: "integer", minimum: 1, maximum: 64, default: 8 }, alpha: { type: "number", default: 16 }, targets: { type: "array", items: { enum: ["q", "k", "v", "o", "up", "down"] } } } }, learningRate: { type: "number", exclusiveMinimum: 0, maximum: 0.1, default: 0.005 }, batchSize: { type: "integer", minimum: 1, maximum: 64, default: 8 }, epochs: { type: "number", exclusiveMinimum: 0, maximum: 100, default: 3 }, seqLen: { type: "integer", minimum: 8, description: "at most the base's context", default: 64 }, seed: { type: "integer", default: 1 } } },
            { type: "object", additionalProperties: false, required: ["method", "name", "owner", "datanets"], properties: { method: { const: "classifier" }, name: { type: "string" }, owner: address, datanets: { type: "array", items: { type: "integer" } }, textField: { type: "string", default: "text" }, labelField: { type: "string", default: "label" }, learningRate: { type: "number", default: 0.5 }, epochs: { type: "integer", default: 20 }, l2: { type: "number", default: 0.003 }, seed: { type: "integer", default: 1 } } },
          ],
        },
        Job: { type: "object", properties: { id: { type: "integer" }, name: { type: "string" }, method: { enum: ["lora", "classifier"] }, owner: address, state: { enum: ["queued", "running", "evaluating", "done", "failed", "cancelled", "interrupted"] }, step: { type: "integer" }, steps: { type: ["integer", "null"] }, checkpointStep: { type: "integer" }, error: { type: ["string", "null"] }, spec: { $ref: "#/components/schemas/JobSpec" }, trainingSet: { type: "object", description: "{ datanets, kind, train: Entry[], heldOut: Entry[], slashedLeftOut: id[], root }; Entry = { id, datanetId, contentHash, contributor }" }, outcome: { type: ["object", "null"], description: "{ artifactHash, configHash, metricsHash, metrics: { loss, baseLoss?, perplexity?, accuracy?, samples? } }" }, modelId: { type: ["integer", "null"] }, publishTx: { type: ["string", "null"] }, progress: { type: "array", items: { type: "object", properties: { step: { type: "integer" }, loss: { type: ["number", "null"] }, lr: { type: "number" } } } } } },
        Generate: { type: "object", additionalProperties: false, properties: { prompt: { type: "string", maxLength: 2000 }, maxTokens: { type: "integer", minimum: 1, maximum: 256, default: 120 }, temperature: { type: "number", minimum: 0, maximum: 2, default: 0.7 }, topP: { type: "number", default: 0.95 }, seed: { type: "integer", default: 1 }, compare: { type: "boolean", default: false } } },
        Publish: { type: "object", additionalProperties: false, properties: { pricePer1kTokens: uint("OPEN base units per 1,000 output tokens"), txHash: { type: "string", pattern: "^0x[0-9a-fA-F]{64}$", description: "the owner's own ModelRegistry.register transaction" } } },
        Model: { type: "object", properties: { id: { type: "integer" }, owner: address, kind: { enum: ["base", "adapter", "classifier"] }, status: { enum: ["active", "retired"] }, parent: { type: "integer" }, artifactHash: { type: "string" }, configHash: { type: "string" }, trainingSetRoot: { type: "string" }, metricsHash: { type: "string" }, pricePer1kTokens: uint("OPEN base units"), contributionCount: { type: "integer" }, datanets: { type: "array", items: { type: "integer" } }, contributionIds: { type: "array", items: { type: "integer" } }, job: { type: ["object", "null"] } } },
        ...ticketSchemas,
        Error: { type: "object", required: ["error"], properties: { error: { type: "object", required: ["code", "message"], properties: { code: { type: "string" }, message: { type: "string" }, issues: { type: "array", items: { type: "object", properties: { field: { type: "string" }, reason: { type: "string" } } } } } } } },
      },
    },
  };
}
