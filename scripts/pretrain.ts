// Pretrains a base language model from its seed: `npm run pretrain -- --preset small`.
// Writes build/models/base/<preset>-<input hash>/ and compares the result with the
// committed weights (models/base/<preset>.poalm) when there are some; --commit
// copies the new weights and manifest there.
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Command } from "commander";
import { basePreset, pretrain, COMMITTED_DIR, type BaseModelInfo } from "../models/base-model.js";
import { progressBar } from "../ops/progress.js";

const o = new Command("pretrain")
  .description("pretrain a base language model from its fixed seed")
  .option("--preset <name>", "small (npm start) or tiny (tests)", "small")
  .option("--commit", "copy the weights and manifest to models/base/")
  .parse()
  .opts();
const preset = basePreset(o.preset);
const bar = progressBar(`pretraining ${preset.name}`);
const t0 = Date.now();
const b = pretrain(preset, { onStep: (r, total) => bar((r.step + 1) / total, Date.now() - t0) });
console.log(`${b.path}\n  artifact ${b.info.artifactHash}\n  held-out loss ${b.info.heldOutLoss.toFixed(4)} nats/char, ${b.info.tokensPerSecond.toFixed(0)} tokens/s`);
const committed = join(COMMITTED_DIR, `${preset.name}.json`);
if (existsSync(committed)) {
  const info = JSON.parse(readFileSync(committed, "utf8")) as BaseModelInfo;
  console.log(info.artifactHash === b.info.artifactHash ? "  reproduces the committed weights byte for byte" : `  DIFFERS from the committed weights ${info.artifactHash}`);
}
if (o.commit) {
  copyFileSync(b.path, join(COMMITTED_DIR, `${preset.name}.poalm`));
  copyFileSync(join(b.path, "..", "info.json"), committed);
  console.log(`  copied to ${COMMITTED_DIR}`);
}
