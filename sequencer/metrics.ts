// Prometheus metrics of the sequencer (GET /metrics).
import { Counter, Gauge, Histogram, Registry } from "prom-client";

export class Metrics {
  readonly registry = new Registry();
  readonly accepted = new Counter({ name: "poa_receipts_accepted_total", help: "Receipts accepted", registers: [this.registry] });
  readonly rejected = new Counter({ name: "poa_receipts_rejected_total", help: "Requests refused, by reason", labelNames: ["reason"], registers: [this.registry] });
  readonly batchReceipts = new Histogram({ name: "poa_batch_receipts", help: "Receipts per sealed batch", buckets: [0, 1, 2, 4, 8, 16, 32, 64, 128], registers: [this.registry] });
  readonly proofSeconds = new Histogram({ name: "poa_proof_duration_seconds", help: "Witness + proof + verification time per batch, by the prover that made the proof (native, snarkjs)", labelNames: ["prover"], buckets: [0.5, 1, 2, 5, 10, 20, 40, 80, 160], registers: [this.registry] });
  readonly proofCpuSeconds = new Counter({ name: "poa_proof_cpu_seconds_total", help: "CPU time of the proofs made, by prover: the prover thread's (witness, verification) and the native prover process's; snarkjs's proofs are not counted (its threads are nobody's to read)", labelNames: ["prover"], registers: [this.registry] });
  readonly gasUsed = new Counter({ name: "poa_l1_gas_used_total", help: "Gas used by submitBatch transactions", registers: [this.registry] });
  readonly replaced = new Counter({ name: "poa_l1_replacements_total", help: "Stuck submitBatch transactions replaced with higher fees on the same nonce", registers: [this.registry] });
  readonly alerts = new Counter({ name: "poa_operator_alerts_total", help: "Problems the sequencer could not resolve by itself (see /healthz)", registers: [this.registry] });
  readonly unsealed = new Counter({ name: "poa_batches_unsealed_total", help: "Sealed batches taken apart after the circuit refused one", registers: [this.registry] });
  readonly l1OpMarginBlocks = new Gauge({ name: "poa_l1_op_margin_blocks", help: "Blocks left before the oldest L1 operation not consumed on L1 is due (exitDelay when the queue is empty; negative: overdue)", registers: [this.registry] });
  readonly queueDepth = new Gauge({ name: "poa_queue_depth", help: "Work waiting, by queue", labelNames: ["queue"], registers: [this.registry] });
}
