// The native prover's `setup` (Groth16 phase 2's initial zkey, snarkjs's
// `zkey new`) against snarkjs: the same bytes for the test instance's exit
// circuit, a key that setup.ts contributes to and proves with, and a named
// error for each input it cannot use.
import { expect } from "chai";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as snarkjs from "snarkjs";
import { artifactPaths, readManifest } from "../artifacts/paths.js";
import { writeDevPtau } from "../ops/dev-ptau/generate.js";
import { nativeNewZkey, NativeProverError } from "../prover/native/run.js";
import { INSTANCE } from "./helpers.js";

const SHARED_PTAU = join(import.meta.dirname, "..", "..", "shared", "ptau", "pot17_dev.ptau");

/** Offsets of each section's 12-byte header in an iden3 binary file. */
function sectionHeaders(b: Buffer): Map<number, number> {
  const m = new Map<number, number>();
  let pos = 12;
  for (let i = 0; i < b.readUInt32LE(8); i++) {
    m.set(b.readUInt32LE(pos), pos);
    pos += 12 + Number(b.readBigUInt64LE(pos + 4));
  }
  return m;
}

const dir = mkdtempSync(join(tmpdir(), "poa-native-setup-"));

async function refuses(p: Promise<unknown>, message: RegExp): Promise<void> {
  const e = await p.then(() => undefined, (x) => x);
  expect(e, "a zkey was written").to.be.instanceOf(NativeProverError);
  expect((e as NativeProverError).kind).to.equal("input");
  expect((e as Error).message).to.match(message);
  expect(readdirSync(dir).filter((f) => f.startsWith("x.zkey")), "a partial zkey was left").to.deep.equal([]);
}

describe("native phase 2 setup (poa-groth16 setup)", function () {
  const exit = artifactPaths(INSTANCE, "exit");

  it("writes the exit circuit's initial zkey byte for byte as snarkjs's zkey new does", async () => {
    const mine = join(dir, "native.zkey"), theirs = join(dir, "snarkjs.zkey");
    const st = await nativeNewZkey(exit.r1cs, SHARED_PTAU, mine);
    await snarkjs.zKey.newZKey(exit.r1cs, SHARED_PTAU, theirs);
    const [a, b] = [readFileSync(mine), readFileSync(theirs)];
    expect(a.length).to.equal(b.length);
    expect(a.equals(b), "the two zkeys differ").to.equal(true);
    // The circuit hash it reports is the one in section 10, and the one snarkjs computed.
    expect(st.csHashMatchesSnarkjs).to.equal(true);
    const s10 = sectionHeaders(a).get(10)! + 12;
    expect(a.subarray(s10, s10 + 64).toString("hex")).to.equal(st.csHash);
    expect([st.constraints, st.domainSize, st.public]).to.deep.equal([readManifest(INSTANCE, "exit")!.constraints, 2048, 4]);
  });

  it("made the test instance's keys that every other test proves with", () => {
    for (const kind of ["batch", "exit"] as const) expect(readManifest(INSTANCE, kind)!.build!.phase2!.by).to.equal("native");
  });

  describe("bad input: a named error and no zkey", () => {
    let small: string;
    before(async () => {
      small = join(dir, "pot10.ptau");
      await writeDevPtau(small, 10, { windowBits: 8 });
    });

    it("a powers-of-tau too small for the circuit", async () => {
      await refuses(nativeNewZkey(exit.r1cs, small, join(dir, "x.zkey")), /the circuit needs a powers-of-tau of 2\^11 \(1336 constraints\), .*pot10\.ptau is 2\^10/);
    });

    it("a powers-of-tau not prepared for phase 2", async () => {
      const b = readFileSync(small);
      b.writeUInt32LE(99, sectionHeaders(b).get(12)!); // section 12 (Lagrange G1) renamed away
      const p = join(dir, "unprepared.ptau");
      writeFileSync(p, b);
      await refuses(nativeNewZkey(exit.r1cs, p, join(dir, "x.zkey")), /is not prepared for phase 2/);
    });

    it("a truncated r1cs, a wire out of range, another file type", async () => {
      const r1cs = readFileSync(exit.r1cs);
      const hdr = sectionHeaders(r1cs);
      const cut = join(dir, "cut.r1cs");
      writeFileSync(cut, r1cs.subarray(0, hdr.get(2)! + 5000));
      await refuses(nativeNewZkey(cut, SHARED_PTAU, join(dir, "x.zkey")), /r1cs .* is truncated: section 2 needs/);
      // The first term of the first constraint's A: count at +12, its wire at +16.
      const wire = Buffer.from(r1cs);
      wire.writeUInt32LE(0xffff, hdr.get(2)! + 16);
      const bad = join(dir, "wire.r1cs");
      writeFileSync(bad, wire);
      await refuses(nativeNewZkey(bad, SHARED_PTAU, join(dir, "x.zkey")), /constraint 0 uses wire 65535 of 1350/);
      const notR1cs = join(dir, "zkey.r1cs");
      copyFileSync(exit.zkey, notR1cs);
      await refuses(nativeNewZkey(notR1cs, SHARED_PTAU, join(dir, "x.zkey")), /is not a \.r1cs file/);
    });
  });
});
