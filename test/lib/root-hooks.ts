// Root hooks: end snarkjs's curve worker threads and the test PostgreSQL server
// after the whole run, so mocha exits on its own.
import { terminateCurve } from "../../prover/groth16.js";
import { stopTestPostgres } from "./postgres.js";

export const mochaHooks = {
  async afterAll(): Promise<void> {
    await terminateCurve();
    await stopTestPostgres();
  },
};
