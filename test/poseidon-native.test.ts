// The native Poseidon addon (prover/native/addon/poseidon.cpp) against
// circomlibjs, which the circuits' poseidon.circom agrees with: every width,
// the field's edge values, random inputs; its refusals; the fallback to
// circomlibjs for values it refuses; its C build (no nasm) as well; and a
// process that exits while worker threads hash with it exits cleanly.
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FIELD_MODULUS, initCrypto, poseidon, poseidonImplementation, poseidonJs } from "../core/crypto.js";
import { loadNativePoseidon, loadPoseidonAddon, type NativePoseidon } from "../core/poseidon-native.js";
import { compilePoseidonAddon } from "../prover/native/build.js";

const R = FIELD_MODULUS;
const field = fc.oneof(fc.bigInt({ min: 0n, max: R - 1n }), fc.constantFrom(0n, 1n, R - 1n, R - 2n, 2n ** 253n, 2n ** 64n - 1n, 2n ** 64n));

describe("native Poseidon (prover/native/addon)", function () {
  let native: NativePoseidon;

  before(async function () {
    await initCrypto();
    const loaded = loadNativePoseidon();
    if ("missing" in loaded) throw new Error(`the addon must be built for this test (npm run build:native): ${loaded.missing}`);
    native = loaded;
  });

  it("is what poseidon() runs once the addon is built", () => {
    const impl = poseidonImplementation();
    expect(impl.native, JSON.stringify(impl)).to.equal(true);
  });

  it("equals circomlibjs for every width 1..16, on edge values and random inputs", () => {
    for (let n = 1; n <= 16; n++) {
      fc.assert(
        fc.property(fc.array(field, { minLength: n, maxLength: n }), (xs) => {
          expect(native.hash(xs), `${n} inputs ${xs.join(",")}`).to.equal(poseidonJs(xs));
        }),
        { numRuns: 12 },
      );
    }
    // A known value: Poseidon(1, 2), as circomlib's own tests give it.
    expect(native.hash([1n, 2n])).to.equal(7853200120776062878684798364095072458815029376092732009249414926327459813530n);
  });

  it("hashMany equals one hash per group", () => {
    const flat = Array.from({ length: 5 * 7 }, (_, i) => (BigInt(i) * 0x9e3779b97f4a7c15n) % R);
    const many = native.hashMany(flat, 7);
    expect(many).to.have.length(5);
    many.forEach((h, i) => expect(h).to.equal(poseidonJs(flat.slice(i * 7, i * 7 + 7))));
  });

  it("refuses a value outside [0, r), a non-BigInt and a bad width, naming the problem", () => {
    expect(() => native.hash([1n, R])).to.throw(RangeError, "input 1 is not a field element");
    expect(() => native.hash([-1n])).to.throw(RangeError, "input 0 is not a field element");
    expect(() => native.hash([2n ** 300n])).to.throw(RangeError, "input 0 is not a field element");
    expect(() => native.hash([1 as unknown as bigint])).to.throw(RangeError, "input 0 is not a field element");
    expect(() => native.hash([])).to.throw(RangeError, "Poseidon takes 1..16 inputs, got 0");
    expect(() => native.hash(Array(17).fill(1n))).to.throw(RangeError, "Poseidon takes 1..16 inputs, got 17");
    expect(() => native.hashMany([1n, 2n, 3n], 2)).to.throw(RangeError, "3 inputs are not a multiple of the width 2");
  });

  it("poseidon() reduces what the addon refuses exactly as circomlibjs does", () => {
    for (const xs of [[R], [R + 5n, 3n], [-1n, 2n]]) expect(poseidon(xs)).to.equal(poseidonJs(xs));
    expect(poseidon([R + 1n])).to.equal(poseidonJs([1n]));
  });

  it("a process that dies while worker threads hash with it exits with its own error, not a crash", function () {
    // While a worker is terminated, Node-API calls fail with an exception pending; the addon must return
    // then, not hand V8 an unset value (a segmentation fault at every uncaught error of a sequencer).
    const worker = fileURLToPath(new URL("./lib/poseidon-exit-worker.mjs", import.meta.url));
    const main = `import { Worker } from "node:worker_threads"; let ready = 0;
      for (let k = 0; k < 2; k++) new Worker(${JSON.stringify(worker)}, { execArgv: [] }).on("message", (m) => {
        if (!JSON.parse(m).native) { console.error("not native: " + m); process.exit(3); }
        if (++ready === 2) setTimeout(() => { throw new Error("the main thread fails"); }, 300);
      });`;
    for (let run = 0; run < 3; run++) {
      const r = spawnSync(process.execPath, ["--input-type=module", "-e", main], { encoding: "utf8", timeout: 60_000 });
      expect([r.status, r.signal], r.stderr.slice(-500)).to.deep.equal([1, null]);
      expect(r.stderr).to.include("the main thread fails");
    }
  });

  it("built without nasm (the C field path), hashes the same", function () {
    const built = compilePoseidonAddon(mkdtempSync(join(tmpdir(), "poa-poseidon-c-")), []);
    expect(built, "the C build made no addon").to.be.a("string");
    // Before its constants are set, a width is refused by name.
    const bare = createRequire(import.meta.url)(built!) as { hash(xs: bigint[]): bigint };
    expect(() => bare.hash([1n, 2n])).to.throw(RangeError, "constants for 2 inputs were not set");
    const cPath = loadPoseidonAddon(built!);
    for (let n = 1; n <= 16; n++) {
      const xs = Array.from({ length: n }, (_, i) => R - 1n - BigInt(i) * 0x1234567n);
      expect(cPath.hash(xs), `${n} inputs`).to.equal(poseidonJs(xs));
    }
  });
});
