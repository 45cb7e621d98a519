// Root hooks: end snarkjs's curve worker threads after the whole run, so
// mocha exits on its own.
import { terminateCurve } from "../../prover/groth16.js";

export const mochaHooks = {
  async afterAll(): Promise<void> {
    await terminateCurve();
  },
};
