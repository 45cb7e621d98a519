// scripts/dev-ptau: a prepared powers-of-tau computed from known secrets must
// be the very file snarkjs would prepare, and must carry real Groth16 keys
// through setup, contribution, proving and on-chain verification.
import { expect } from "chai";
import hre from "hardhat";
import "@nomicfoundation/hardhat-ethers";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import * as snarkjs from "snarkjs";
import { JsonRpcProvider, Wallet } from "ethers";
import { assertSetupFitsChain, deployRollup } from "../ops/deploy.js";
import { LOCAL_CHAIN_ID } from "../artifacts/contracts.js";
import { readManifest } from "../artifacts/paths.js";
import { planPtau } from "../ops/dev-ptau/plan.js";
import { choosePtau, ptauContributions, ptauPower } from "../ops/ptau.js";
import { fileHash } from "../artifacts/paths.js";
import { spawnSync } from "node:child_process";
import { writeDevPtau } from "../ops/dev-ptau/generate.js";
import { ROOT } from "../artifacts/paths.js";
import { FIELD_MODULUS } from "../core/crypto.js";
import { proofCalldata } from "../prover/groth16.js";
import { testCircuit } from "./lib/circom.js";

const DIR = join(ROOT, "build", "test-dev-ptau");
const require = createRequire(import.meta.url);

/** The file's sections by id: [offset of data, size]. */
function sections(buf: Buffer): Map<number, [number, number]> {
  const m = new Map<number, [number, number]>();
  for (let pos = 12; pos < buf.length; ) {
    const id = buf.readUInt32LE(pos);
    const size = Number(buf.readBigUInt64LE(pos + 4));
    m.set(id, [pos + 12, size]);
    pos += 12 + size;
  }
  return m;
}

/** The same file without sections 12..15: what `powersoftau contribute` leaves before `prepare phase2`. */
function unprepared(buf: Buffer): Buffer {
  const head = Buffer.from(buf.subarray(0, 12));
  head.writeUInt32LE(7, 8);
  const parts: Buffer[] = [head];
  for (const [id, [start, size]] of sections(buf)) if (id <= 7) parts.push(buf.subarray(start - 12, start + size));
  return Buffer.concat(parts);
}

describe("dev-ptau: fast INSECURE development powers-of-tau", function () {
  before(() => mkdir(DIR, { recursive: true }));
  after(() => rm(DIR, { recursive: true, force: true }));

  it("writes byte for byte the file snarkjs's prepare phase2 makes from the same powers", async () => {
    const secrets = { tau: 0x1234567890abcdefn, alpha: 77n, beta: 2n ** 200n + 5n };
    const mine = join(DIR, "pot6_INSECURE.ptau");
    await writeDevPtau(mine, 6, { secrets });
    const buf = readFileSync(mine);
    writeFileSync(join(DIR, "pot6_unprepared.ptau"), unprepared(buf));
    await snarkjs.powersOfTau.preparePhase2(join(DIR, "pot6_unprepared.ptau"), join(DIR, "pot6_snarkjs.ptau"));
    const ref = readFileSync(join(DIR, "pot6_snarkjs.ptau"));
    expect(buf.length).to.equal(ref.length);
    expect(buf.equals(ref), "sections 12-15 differ from snarkjs's IFFT of sections 2-5").to.equal(true);

    // The Lagrange sections pin down sections 2..5 (the IFFT is a bijection);
    // the rest is checked against the secrets directly.
    const curve = await snarkjs.curves.getCurveFromName("bn128", true);
    const s = sections(buf);
    const g1 = (sec: number, i: number) => curve.G1.fromRprLEM(buf, s.get(sec)![0] + 64 * i);
    const g2 = (sec: number, i: number) => curve.G2.fromRprLEM(buf, s.get(sec)![0] + 128 * i);
    const mul1 = (k: bigint) => curve.G1.timesScalar(curve.G1.g, k);
    const mul2 = (k: bigint) => curve.G2.timesScalar(curve.G2.g, k);
    const pow = (k: bigint) => (secrets.tau ** k) % FIELD_MODULUS;
    expect(curve.G1.eq(g1(2, 0), curve.G1.g)).to.equal(true);
    expect(curve.G1.eq(g1(2, 126), mul1(pow(126n)))).to.equal(true);
    expect(curve.G2.eq(g2(3, 63), mul2(pow(63n)))).to.equal(true);
    expect(curve.G1.eq(g1(4, 5), mul1((secrets.alpha * pow(5n)) % FIELD_MODULUS))).to.equal(true);
    expect(curve.G1.eq(g1(5, 0), mul1(secrets.beta % FIELD_MODULUS))).to.equal(true);
    expect(curve.G2.eq(g2(6, 0), mul2(secrets.beta % FIELD_MODULUS))).to.equal(true);
    expect(buf.readUInt32LE(s.get(7)![0]), "contribution records").to.equal(0);
    const header = buf.subarray(s.get(1)![0], s.get(1)![0] + s.get(1)![1]);
    expect([header.readUInt32LE(0), header.readUInt32LE(36), header.readUInt32LE(40)]).to.deep.equal([32, 6, 6]);

    // Large files use 16-bit windows: same points.
    const wide = join(DIR, "pot6_w16_INSECURE.ptau");
    await writeDevPtau(wide, 6, { secrets, windowBits: 16, threads: 1 });
    expect(readFileSync(wide).equals(buf), "16-bit windows give other points than 8-bit ones").to.equal(true);
  });

  it("tells a development file from a ceremony file by its contribution records", async () => {
    const dev = join(DIR, "pot3_INSECURE.ptau");
    await writeDevPtau(dev, 3);
    expect([ptauPower(dev), ptauContributions(dev)]).to.deep.equal([3, 0]);
    const curve = await snarkjs.curves.getCurveFromName("bn128", true);
    await snarkjs.powersOfTau.newAccumulator(curve, 3, join(DIR, "ceremony_0.ptau"));
    await snarkjs.powersOfTau.contribute(join(DIR, "ceremony_0.ptau"), join(DIR, "ceremony_1.ptau"), "someone", "entropy");
    expect([ptauPower(join(DIR, "ceremony_1.ptau")), ptauContributions(join(DIR, "ceremony_1.ptau"))]).to.deep.equal([3, 1]);
  });

  it("keeps a development file insecure even when it is passed as --ptau with its hash", async () => {
    const dev = join(DIR, "pot3_INSECURE.ptau");
    const chosen = await choosePtau(3, { ptau: dev, ptauHash: await fileHash(dev, "blake2b512") });
    expect([chosen.source, chosen.insecure]).to.deep.equal(["flag", true]);
    await choosePtau(3, { ptau: dev, ptauHash: "00" }).then(
      () => expect.fail("a wrong hash was accepted"),
      (e) => expect(String(e)).to.match(/blake2b is [0-9a-f]{128}, but the published hash is 00/),
    );
  });

  it("the CLI refuses an output name without INSECURE, and a power out of range", () => {
    const run = (args: string[]) => spawnSync(join(ROOT, "node_modules", ".bin", "tsx"), [join(ROOT, "scripts", "dev-ptau.ts"), ...args], { encoding: "utf8" });
    const named = run(["--power", "2", "--out", join(DIR, "pot2.ptau")]);
    expect(named.status).to.equal(1);
    expect(named.stderr).to.contain("the file name must contain INSECURE");
    const big = run(["--power", "28"]);
    expect(big.status).to.not.equal(0);
    expect(big.stderr).to.contain("expected an integer in 1..27");
  });

  it("refuses powers outside 1..27 by name", () => {
    const s = { tau: 2n, alpha: 3n, beta: 5n };
    expect(() => planPtau(0, s, new Uint8Array(4))).to.throw("power must be an integer in 1..27, got 0");
    expect(() => planPtau(28, s, new Uint8Array(4))).to.throw("power must be an integer in 1..27, got 28");
    expect(() => planPtau(2.5, s, new Uint8Array(4))).to.throw("got 2.5");
  });

  describe("Groth16 with snarkjs 0.7 on a fresh 2^10 file", function () {
    const ptau = join(DIR, "pot10_INSECURE_dev.ptau");
    before(async () => {
      await writeDevPtau(ptau, 10);
      await hre.run("compile", { quiet: true });
    });

    // The small circuit reads the 2^3 blocks; the full one reads the 2^10
    // blocks and, for the H query, the zero-padded 2^11 block of section 12.
    for (const [name, n] of [["mul_chain_4", 4], ["mul_chain_1000", 1000]] as const) {
      it(`${name}: setup, contribute, verify the key, prove, verify in JS and on chain`, async () => {
        const c = await testCircuit(name);
        const zkey0 = join(DIR, `${name}_0.zkey`), zkey = join(DIR, `${name}.zkey`);
        await snarkjs.zKey.newZKey(c.r1cs, ptau, zkey0);
        await snarkjs.zKey.contribute(zkey0, zkey, "test", "entropy for a test contribution");
        expect(await snarkjs.zKey.verifyFromR1cs(c.r1cs, ptau, zkey), "zkey verify against r1cs + ptau").to.equal(true);

        const x = 3n, cc = 5n;
        const { proof, publicSignals } = await snarkjs.groth16.fullProve({ x: x.toString(), c: cc.toString() }, c.wasm, zkey);
        const y = ((x * x + cc) * x ** BigInt(n - 1)) % FIELD_MODULUS;
        expect(publicSignals).to.deep.equal([y.toString(), cc.toString()]);
        const vkey = await snarkjs.zKey.exportVerificationKey(zkey);
        expect(await snarkjs.groth16.verify(vkey, publicSignals, proof)).to.equal(true);
        expect(await snarkjs.groth16.verify(vkey, [(y + 1n).toString(), cc.toString()], proof)).to.equal(false);

        const template = readFileSync(join(ROOT, "node_modules", "snarkjs", "templates", "verifier_groth16.sol.ejs"), "utf8");
        const verifier = await deployVerifier(await snarkjs.zKey.exportSolidityVerifier(zkey, { groth16: template }));
        const p = proofCalldata(proof);
        const call = (pub: bigint[]) => verifier.verifyProof([p[0], p[1]], [[p[2], p[3]], [p[4], p[5]]], [p[6], p[7]], pub);
        expect(await call([y, cc])).to.equal(true);
        expect(await call([y, cc + 1n])).to.equal(false);
      });
    }
  });
});

describe("artifacts from an insecure setup stay on the local chain", () => {
  // npm test builds the test instance from a development ptau (../shared or generated).
  before(function () {
    if (!readManifest("test")?.insecure) this.skip();
  });

  it("are refused on any other chain unless --insecure-dev-setup is given", async () => {
    expect(() => assertSetupFitsChain("test", LOCAL_CHAIN_ID)).not.to.throw();
    expect(() => assertSetupFitsChain("test", 1n)).to.throw(/INSECURE development powers-of-tau.*Refusing chain 1: .*--insecure-dev-setup/);
    expect(() => assertSetupFitsChain("test", 1n, true)).not.to.throw();
    // deployRollup asks the chain before sending anything: no transaction reaches chain 11155111.
    const sepolia = { getNetwork: async () => ({ chainId: 11155111n }) } as unknown as JsonRpcProvider;
    const deployer = new Wallet("0x" + "11".repeat(32), sepolia);
    let err: unknown;
    await deployRollup(deployer, { instance: "test", treasury: deployer.address, sequencer: deployer.address }).catch((e) => (err = e));
    expect(String(err)).to.match(/Refusing chain 11155111/);
  });

  it("name an unbuilt instance", () => {
    expect(() => assertSetupFitsChain("nonesuch", 1n)).to.throw("instance nonesuch is not built");
  });
});

/** Compiles a snarkjs verifier with solc-js and deploys it on the in-process Hardhat chain. */
async function deployVerifier(source: string) {
  const solc = require("solc");
  const out = JSON.parse(
    solc.compile(
      JSON.stringify({
        language: "Solidity",
        sources: { "Verifier.sol": { content: source } },
        settings: { evmVersion: "cancun", optimizer: { enabled: true, runs: 200 }, outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } } },
      }),
    ),
  );
  const errors = (out.errors ?? []).filter((e: { severity: string }) => e.severity === "error");
  if (errors.length) throw new Error(errors.map((e: { formattedMessage: string }) => e.formattedMessage).join("\n"));
  const art = out.contracts["Verifier.sol"].Groth16Verifier;
  const [deployer] = await hre.ethers.getSigners();
  const f = new hre.ethers.ContractFactory(art.abi, art.evm.bytecode.object, deployer);
  const c = await f.deploy();
  await c.waitForDeployment();
  return c as unknown as { verifyProof(a: bigint[], b: bigint[][], c: bigint[], pub: bigint[]): Promise<boolean> };
}
