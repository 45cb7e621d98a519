// Prometheus metrics of the serving node, in the registry it is given (the
// sequencer's when both run in one process, so one /metrics shows both).
import { Counter, Gauge, Histogram, Registry } from "prom-client";

export class ServingMetrics {
  readonly tokens: Counter;
  readonly completions: Counter;
  readonly refused: Counter;
  readonly timeToFirstToken: Histogram;
  readonly stepSeconds: Histogram;
  readonly batchRows: Histogram;
  readonly queueDepth: Gauge;
  readonly cacheEvents: Counter;
  readonly coldLoadSeconds: Histogram;
  readonly residentAdapters: Gauge;
  readonly receipts: Counter;
  readonly attributionSeconds: Histogram;
  readonly paymentCpuSeconds: Counter;
  /** The payments side's work counters (serving/receipts.ts ReceiptIssuer.work), read at each scrape. */
  paymentWork?: () => Record<"receipt" | "ticket", Record<"hash" | "sign", number>>;

  constructor(readonly registry = new Registry()) {
    const registers = [registry];
    this.tokens = new Counter({ name: "openlora_generated_tokens_total", help: "Tokens generated, all adapters", registers });
    this.completions = new Counter({ name: "openlora_completions_total", help: "Completions finished, by finish reason", labelNames: ["finish_reason"], registers });
    this.refused = new Counter({ name: "openlora_requests_refused_total", help: "Completion requests refused, by error code", labelNames: ["code"], registers });
    this.timeToFirstToken = new Histogram({ name: "openlora_time_to_first_token_seconds", help: "From acceptance to the first generated token", buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers });
    this.stepSeconds = new Histogram({ name: "openlora_decode_step_seconds", help: "One batched decode step", buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1], registers });
    this.batchRows = new Histogram({ name: "openlora_batch_rows", help: "Sequences decoded per step", buckets: [1, 2, 4, 8, 16, 32, 64, 128], registers });
    this.queueDepth = new Gauge({ name: "openlora_queue_depth", help: "Requests by stage", labelNames: ["stage"], registers });
    this.cacheEvents = new Counter({ name: "openlora_adapter_cache_total", help: "Adapter cache hits, misses and evictions", labelNames: ["event"], registers });
    this.coldLoadSeconds = new Histogram({ name: "openlora_adapter_cold_load_seconds", help: "Registry lookup, read, hash check and decode of an adapter", buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1], registers });
    this.residentAdapters = new Gauge({ name: "openlora_resident_adapters", help: "Adapters resident in memory", registers });
    this.receipts = new Counter({ name: "openlora_receipts_issued_total", help: "Receipts written to the outbox (one per paid answer)", registers });
    const work = () => this.paymentWork?.();
    this.paymentCpuSeconds = new Counter({
      name: "openlora_payment_cpu_seconds_total", help: "Payment work by kind (receipt, ticket) and step (hash: each answer's, on the HTTP thread; sign: each bundle's, on the receipt thread)",
      labelNames: ["kind", "step"], registers,
      collect() {
        const w = work();
        if (!w) return;
        this.reset();
        for (const kind of ["receipt", "ticket"] as const) for (const step of ["hash", "sign"] as const) this.inc({ kind, step }, w[kind][step]);
      },
    });
    this.attributionSeconds = new Histogram({ name: "openlora_attribution_seconds", help: "Attribution of one answer (token runs + LoRA-space gradient), on the receipt thread", buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers });
  }
}
