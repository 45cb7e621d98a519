// npm run build:native: builds the native Groth16 prover (cached by source hash).
// Never fails the install: without a compiler the service proves with snarkjs.
import { buildNativeProver } from "../prover/native/build.js";

const t0 = Date.now();
const b = buildNativeProver((s) => console.log(`native prover: ${s}`));
if ("missing" in b) console.warn(`⚠ ${b.missing}; proofs will be made with snarkjs`);
else console.log(`✓ native prover: ${b.binary} (${b.field} field arithmetic${Date.now() - t0 > 1000 ? `, built in ${b.seconds.toFixed(1)} s` : ", cached"})`);
