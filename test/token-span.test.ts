// Proved token spans: the token commitment (core/token-commitment.ts) and the
// TokenSpan template (circuits/lib/token_span.circom) against its model
// (core/token-span.ts). Every rule the template enforces has an input that
// breaks it and fails witness generation; the model refuses the same claims.
import { expect } from "chai";
import { initCrypto, poseidon } from "../core/crypto.js";
import { TOKEN_CHUNK, TokenCommitment, tokenValue, tokenValues } from "../core/token-commitment.js";
import { checkSpan, spanInput, type TokenSpanClaim } from "../core/token-span.js";
import { MerkleTree } from "../core/tree.js";
import { witness, witnessFails as fails } from "./lib/circom.js";

// test/circuits/token_span.circom: TokenSpan(DA 2, DC 3, L 16, LMIN 4).
const DA = 2, DC = 3;
const SHAPE = { maxLen: 16, minLen: 4 };

describe("token commitments", () => {
  before(() => initCrypto());

  it("commits 16-token chunks, the last padded with 0, as the leaves of a 4-ary Poseidon tree", () => {
    const text = "Fold the saffron into warm quince purée — gently! ".repeat(4); // 40 tokens
    const values = tokenValues(text);
    expect(values).to.have.length(40);
    expect(values[0]).to.equal(tokenValue("fold"));
    expect(tokenValues("— “Hi”")).to.deep.equal(tokenValues('-- "hi"')); // values of the folded tokens
    const c = TokenCommitment.ofText(text, DA);
    const zeros = Array(16).fill(0n);
    const tree = new MerkleTree(DA, poseidon(zeros)); // chunks past the end are 16 zeros
    tree.set(0, poseidon(values.slice(0, 16)));
    tree.set(1, poseidon(values.slice(16, 32)));
    tree.set(2, poseidon([...values.slice(32), ...zeros.slice(8)]));
    expect(c.root).to.equal(tree.root);
    expect(c.length).to.equal(40);
    // A depth-2 commitment holds 16 · 4^2 = 256 tokens; the rest of a longer text is not committed.
    const long = new TokenCommitment(Array.from({ length: 300 }, (_, i) => BigInt(i + 1)), DA);
    expect(long.length).to.equal(256);
    expect(() => long.window(15)).to.throw("token window at chunk 15: a depth-2 commitment has chunks 0..15 and a window needs two");
  });
});

describe("TokenSpan: an answer's tokens are a contribution's tokens", () => {
  before(() => initCrypto());
  const source = "Alpha bravo charlie delta echo foxtrot golf hotel india juliett kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu";
  const answer = "As the pilots say: echo foxtrot golf hotel india juliett kilo lima mike november oscar papa, and so on.";
  const src = () => TokenCommitment.ofText(source, DC);
  const ans = () => TokenCommitment.ofText(answer, DA);
  // "echo ... papa": answer tokens 5..16, contribution tokens 4..15 (12 tokens).
  const honest: TokenSpanClaim = { answerStart: 5, sourceStart: 4, len: 12 };

  it("accepts an honest span, a span that crosses a chunk boundary, and an unused slot", async () => {
    const w = await witness("token_span", spanInput(ans(), src(), honest, SHAPE));
    // Outputs: enabled, len, start.
    expect(w.slice(1, 4)).to.deep.equal([1n, 12n, 5n]);
    // Answer tokens 12..19 lie in chunks 0 and 1: "kilo lima mike november oscar papa , and".
    const crossing = { answerStart: 12, sourceStart: 11, len: 5 };
    expect((await witness("token_span", spanInput(ans(), src(), crossing, SHAPE))).slice(1, 4)).to.deep.equal([1n, 5n, 12n]);
    expect((await witness("token_span", spanInput(ans(), src(), undefined, SHAPE))).slice(1, 4)).to.deep.equal([0n, 0n, 0n]);
  });

  it("accepts a span in the last chunk of a full commitment (read through the window before it)", async () => {
    const values = Array.from({ length: 16 * 16 }, (_, i) => tokenValue(`w${i}`));
    const full = new TokenCommitment(values, DA);
    const s = new TokenCommitment([tokenValue("x"), ...values.slice(250)], DC);
    const claim = { answerStart: 250, sourceStart: 1, len: 6 };
    const input = spanInput(full, s, claim, SHAPE);
    expect(input.answerChunk).to.equal(14n);
    expect(input.answerOffset).to.equal(26n);
    expect((await witness("token_span", input)).slice(1, 4)).to.deep.equal([1n, 6n, 250n]);
  });

  it("refuses a span absent from the contribution: a token that differs", async () => {
    const input = spanInput(ans(), src(), honest, SHAPE);
    const tampered = [...(input.sourceTokens as bigint[])];
    tampered[7] = tokenValue("tangerine"); // the window no longer matches the commitment…
    await fails("token_span", { ...input, sourceTokens: tampered });
    // …and a contribution that holds "tangerine" there commits to another root, which the batch binds to its registration.
    const other = source.replace("golf", "tangerine");
    expect(() => checkSpan(ans(), TokenCommitment.ofText(other, DC), honest, SHAPE)).to.throw("token span: answer token 7 differs from contribution token 6");
    expect(() => spanInput(ans(), TokenCommitment.ofText(other, DC), honest, SHAPE)).to.throw("differs");
  });

  it("refuses a span absent from the answer: another answer's window, or the wrong root", async () => {
    const input = spanInput(ans(), src(), honest, SHAPE);
    const otherAnswer = TokenCommitment.ofText("Pilots say: echo foxtrot golf hotel india juliett kilo lima mike november oscar papa.", DA);
    await fails("token_span", { ...input, answerRoot: otherAnswer.root });
    const tokens = [...(input.answerTokens as bigint[])];
    tokens[10] = tokenValue("tango");
    await fails("token_span", { ...input, answerTokens: tokens });
  });

  it("refuses a wrong offset on either side", async () => {
    const input = spanInput(ans(), src(), honest, SHAPE);
    await fails("token_span", { ...input, answerOffset: 6n });
    await fails("token_span", { ...input, sourceOffset: 3n });
    expect(() => checkSpan(ans(), src(), { ...honest, sourceStart: 5 }, SHAPE)).to.throw("token span: answer token 5 differs from contribution token 5");
  });

  it("refuses a span shorter than the floor, a gap in the active tokens, and a non-bit", async () => {
    const short = { answerStart: 5, sourceStart: 4, len: 3 };
    expect(() => spanInput(ans(), src(), short, SHAPE)).to.throw("token span length 3 is not in [4, 16]");
    const input = spanInput(ans(), src(), honest, SHAPE);
    const activeOf = (n: number): bigint[] => Array.from({ length: 16 }, (_, j) => (j < n ? 1n : 0n));
    await fails("token_span", { ...input, active: activeOf(3) });
    const gap = activeOf(12);
    gap[5] = 0n;
    await fails("token_span", { ...input, active: gap });
    const two = activeOf(12);
    two[0] = 2n;
    await fails("token_span", { ...input, active: two });
  });

  it("refuses a span that runs past the end: padding never matches padding", async () => {
    // A contribution that is the answer itself: its last four tokens match, and the four after
    // them are padding (0) on both sides, which the span may not claim.
    const a = new TokenCommitment(tokenValues(answer), DA);
    const s = new TokenCommitment(tokenValues(answer), DC);
    const end = a.length; // 26
    const ok = { answerStart: end - 4, sourceStart: end - 4, len: 4 };
    const input = spanInput(a, s, ok, SHAPE);
    await witness("token_span", input);
    expect(() => checkSpan(a, s, { ...ok, len: 8 }, SHAPE)).to.throw(`token span [${end - 4}, ${end + 4}) is not inside the answer's ${end} committed tokens`);
    const active = Array.from({ length: 16 }, (_, j) => (j < 8 ? 1n : 0n));
    const inverse = [...(input.inverse as bigint[]).slice(0, 4), ...Array(12).fill(0n)];
    await fails("token_span", { ...input, active, inverse });
    // The zero token has no inverse: no value of `inverse` makes 0 · inverse = 1.
    await fails("token_span", { ...input, active, inverse: Array(16).fill(1n) });
  });

  it("refuses a window whose second chunk is past the tree (chunk + 1 < 4^D)", async () => {
    const input = spanInput(ans(), src(), honest, SHAPE);
    await fails("token_span", { ...input, answerChunk: 15n, answerOffset: 0n });
    await fails("token_span", { ...input, answerChunk: 16n, answerOffset: 0n });
  });

  it("the chunk length is the circuit's", () => expect(TOKEN_CHUNK).to.equal(16));
});
