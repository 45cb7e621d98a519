// The native Groth16 prover (prover/native) against snarkjs, on the test
// instance's batch circuit and its exit circuit: its proofs verify with
// snarkjs and with the Solidity verifiers on Hardhat, its public signals are
// snarkjs's, every proof is fresh, and each kind of bad input is named and
// makes no proof. The C field path (no nasm) is built and checked too.
import { expect } from "chai";
import hre from "hardhat";
import "@nomicfoundation/hardhat-ethers";
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as snarkjs from "snarkjs";
import { buildBatch, type RollupState } from "../core/rollup.js";
import { exitInput } from "../prover/exit.js";
import { calculateWitness, proofCalldata, proveWitness, type Groth16Proof } from "../prover/groth16.js";
import { compileNativeProver, findNativeProver } from "../prover/native/build.js";
import { nativeProve, NativeProverError } from "../prover/native/run.js";
import { artifactPaths, type CircuitKind } from "../artifacts/paths.js";
import { artifact } from "../artifacts/contracts.js";
import { bundleFor, DOMAIN, fundedWorld, INSTANCE, OPEN, provider } from "./helpers.js";

const vkey = (kind: CircuitKind) => JSON.parse(readFileSync(artifactPaths(INSTANCE, kind).vkey, "utf8"));

async function snarkjsVerifies(kind: CircuitKind, proof: Groth16Proof, publicSignals: string[]): Promise<boolean> {
  return snarkjs.groth16.verify(vkey(kind), publicSignals, proof);
}

/** NativeProverError of this kind whose message matches. */
async function refuses(p: Promise<unknown>, kind: NativeProverError["kind"], message: RegExp): Promise<void> {
  const e = await p.then(() => undefined, (x) => x);
  expect(e, "a proof was made").to.be.instanceOf(NativeProverError);
  expect((e as NativeProverError).kind).to.equal(kind);
  expect((e as Error).message).to.match(message);
}

describe("native Groth16 prover", function () {
  let state: RollupState;
  let batchWtns: Uint8Array, exitWtns: Uint8Array;
  const zkey = (kind: CircuitKind) => artifactPaths(INSTANCE, kind).zkey;

  before(async function () {
    const built = findNativeProver();
    if ("missing" in built) throw new Error(built.missing);
    const alice = await provider(1);
    ({ state } = await fundedWorld([alice], 1000n * OPEN));
    const b = await buildBatch(state, { ops: [], bundles: [await bundleFor(state, alice, [{ owner: 0xb0b0n, fee: 10n ** 15n, entries: [{ contributor: 0xc1c1n, score: 1n }, { contributor: 0xc2c2n, score: 3n }] }])] }, DOMAIN);
    batchWtns = await calculateWitness(INSTANCE, b.circuitInput);
    exitWtns = await calculateWitness(INSTANCE, exitInput(state, 1), "exit");
  });

  for (const kind of ["batch", "exit"] as const) {
    it(`proves the ${kind} circuit: snarkjs verifies it, and its public signals are snarkjs's`, async () => {
      const wtns = kind === "batch" ? batchWtns : exitWtns;
      const native = await nativeProve(zkey(kind), wtns);
      expect(await snarkjsVerifies(kind, native.proof, native.publicSignals)).to.equal(true);
      const js = await snarkjs.groth16.prove(zkey(kind), wtns);
      expect(native.publicSignals).to.deep.equal(js.publicSignals);
      // snarkjs's JSON shape: projective coordinates with z = 1.
      expect(native.proof.protocol).to.equal("groth16");
      expect(native.proof.curve).to.equal("bn128");
      expect(native.proof.pi_a[2]).to.equal("1");
      expect(native.proof.pi_b[2]).to.deep.equal(["1", "0"]);
      expect(Object.keys(native.proof)).to.deep.equal(Object.keys(js.proof));
      // A proof of other public signals does not verify.
      const other = [...native.publicSignals];
      other[0] = (BigInt(other[0]) + 1n).toString();
      expect(await snarkjsVerifies(kind, native.proof, other)).to.equal(false);
    });
  }

  it("verifies on the Solidity verifiers (Hardhat), and a tampered proof does not", async () => {
    const [deployer] = await hre.ethers.getSigners();
    for (const kind of ["batch", "exit"] as const) {
      const name = artifactPaths(INSTANCE, kind).verifierName;
      const a = artifact(name, "contracts/generated");
      const verifier = (await new hre.ethers.ContractFactory(a.abi as never, a.bytecode, deployer).deploy()) as unknown as { verifyProof(...args: unknown[]): Promise<boolean> };
      const { proof, publicSignals } = await nativeProve(zkey(kind), kind === "batch" ? batchWtns : exitWtns);
      const c = proofCalldata(proof);
      const args = (k: bigint[]) => [[k[0], k[1]], [[k[2], k[3]], [k[4], k[5]]], [k[6], k[7]], publicSignals.map(BigInt)];
      expect(await verifier.verifyProof(...args(c)), `${name} accepts the native proof`).to.equal(true);
      const tampered = [...c];
      tampered[7] = (tampered[7] + 1n) % 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
      expect(await verifier.verifyProof(...args(tampered))).to.equal(false);
    }
  });

  it("draws fresh r and s for every proof: two proofs of one witness differ and both verify", async () => {
    const p1 = await nativeProve(zkey("exit"), exitWtns);
    const p2 = await nativeProve(zkey("exit"), exitWtns);
    expect(p1.proof.pi_a).to.not.deep.equal(p2.proof.pi_a);
    expect(p1.proof.pi_b).to.not.deep.equal(p2.proof.pi_b);
    expect(p1.proof.pi_c).to.not.deep.equal(p2.proof.pi_c);
    expect(await snarkjsVerifies("exit", p1.proof, p1.publicSignals)).to.equal(true);
    expect(await snarkjsVerifies("exit", p2.proof, p2.publicSignals)).to.equal(true);
  });

  describe("bad input: a named error and no proof", () => {
    const dir = mkdtempSync(join(tmpdir(), "poa-native-"));
    const original = () => readFileSync(zkey("exit"));
    const damaged = (name: string, edit: (b: Buffer) => Buffer) => {
      const p = join(dir, name);
      writeFileSync(p, edit(Buffer.from(original())));
      return p;
    };
    // The byte offset of section `type`'s data in a binfile.
    const sectionAt = (b: Buffer, type: number) => {
      let pos = 12;
      for (let i = 0; i < b.readUInt32LE(8); i++) {
        const t = b.readUInt32LE(pos), size = Number(b.readBigUInt64LE(pos + 4));
        if (t === type) return pos + 12;
        pos += 12 + size;
      }
      throw new Error(`no section ${type}`);
    };

    it("a corrupted zkey: a point off the curve, a coefficient out of range, a truncated file, another file type", async () => {
      const offCurve = damaged("point.zkey", (b) => {
        b[sectionAt(b, 5) + 64 * 1 + 5] ^= 0x40; // A's point 1, x coordinate
        return b;
      });
      await refuses(nativeProve(offCurve, exitWtns), "input", /^zkey is corrupt: point 1 of section 5 \(A\) is not on the curve$/);
      const badCoef = damaged("coef.zkey", (b) => {
        b.writeUInt32LE(7, sectionAt(b, 4) + 4); // coefficient 0's matrix
        return b;
      });
      await refuses(nativeProve(badCoef, exitWtns), "input", /^zkey is corrupt: coefficient 0 \(matrix 7, .*\) is out of range$/);
      const truncated = damaged("short.zkey", (b) => b.subarray(0, b.length - 1000));
      await refuses(nativeProve(truncated, exitWtns), "input", /^zkey is truncated: section \d+ needs \d+ bytes at offset \d+, the file has \d+$/);
      await refuses(nativeProve(artifactPaths(INSTANCE, "exit").r1cs, exitWtns), "input", /^zkey is not a \.zkey file/);
      await refuses(nativeProve(join(dir, "none.zkey"), exitWtns), "input", /^zkey .*none\.zkey cannot be opened: No such file or directory$/);
    });

    it("a truncated witness, a witness of another circuit, a witness that is not one", async () => {
      await refuses(nativeProve(zkey("exit"), exitWtns.subarray(0, exitWtns.length - 32)), "input", /^witness is truncated: section 2 needs \d+ bytes at offset \d+, the file has \d+$/);
      await refuses(nativeProve(zkey("exit"), batchWtns), "input", /^witness is for another circuit: it has \d+ values, this zkey's circuit has \d+$/);
      await refuses(nativeProve(zkey("exit"), new TextEncoder().encode("not a witness at all")), "input", /^witness is not a \.wtns file/);
      // The same refusal through proveWitness: no fallback to snarkjs for bad input.
      await refuses(proveWitness(zkey("exit"), batchWtns, "native"), "input", /another circuit/);
    });

    it("a missing binary: a named error from the native prover, and proveWitness falls back to snarkjs", async () => {
      await refuses(nativeProve(zkey("exit"), exitWtns, { binary: join(dir, "no-such-prover") }), "missing", /the native prover cannot run .*no-such-prover/);
      const build = findNativeProver();
      if ("missing" in build) throw new Error(build.missing);
      const moved = join(dir, "moved-prover");
      copyFileSync(build.binary, moved);
      renameSync(build.binary, join(dir, "hidden"));
      try {
        await refuses(nativeProve(zkey("exit"), exitWtns), "missing", /cannot run/);
        const fallback = await proveWitness(zkey("exit"), exitWtns, "native");
        expect(fallback.prover).to.equal("snarkjs");
        expect(await snarkjsVerifies("exit", fallback.proof, fallback.publicSignals)).to.equal(true);
      } finally {
        renameSync(join(dir, "hidden"), build.binary);
        rmSync(moved);
      }
    });
  });

  it("the C field arithmetic (the build without nasm) makes the same verifying proofs", async function () {
    const c = compileNativeProver(join(mkdtempSync(join(tmpdir(), "poa-native-c-")), "build"), false);
    expect(c.field).to.equal("c");
    const p = await nativeProve(zkey("batch"), batchWtns, { binary: c.binary });
    expect(await snarkjsVerifies("batch", p.proof, p.publicSignals)).to.equal(true);
  });
});
