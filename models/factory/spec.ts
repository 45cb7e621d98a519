// What a fine-tuning job asks for, validated with zod (the API, the CLI and the
// web page all submit this shape). Defaults are the ones the demo uses; every
// bound is checked here so that a job never fails late on a bad setting.
import { z } from "zod";
import { PROJECTIONS } from "../lm/transformer.js";
import { BASE_PRESETS } from "../base-model.js";
import { CLASSIFIER_TRAINING } from "../../attribution/influence/classifier.js";

export const JOB_METHODS = ["lora", "classifier"] as const;
export type JobMethod = (typeof JOB_METHODS)[number];

/** Hard limits: a job must finish on this 2-core machine. */
export const MAX_STEPS = 5_000;
export const MAX_DATANETS = 16;

const address = z.string({ error: "an address is 0x and 40 hex digits" }).regex(/^0x[0-9a-fA-F]{40}$/, "an address is 0x and 40 hex digits").refine((a) => BigInt(a) !== 0n, "the owner must not be the zero address (no one could publish or be paid)");
const datanets = z
  .array(z.number().int("a datanet id is an integer").positive("datanet ids start at 1"), { error: "datanets must be a list of datanet ids" })
  .min(1, "pick at least one datanet")
  .max(MAX_DATANETS, `at most ${MAX_DATANETS} datanets`)
  .refine((d) => new Set(d).size === d.length, "a datanet is listed twice");
const name = z.string({ error: "a job needs a name" }).trim().min(1, "a job needs a name").max(64, "a name is at most 64 characters");

export const loraJobSchema = z.strictObject({
  method: z.literal("lora"),
  name,
  owner: address,
  datanets,
  base: z.enum(Object.keys(BASE_PRESETS) as [string, ...string[]], { error: `base must be one of ${Object.keys(BASE_PRESETS).join(", ")}` }).default("small"),
  lora: z
    .strictObject({
      rank: z.number().int().min(1, "rank is at least 1").max(64, "rank is at most 64").default(8),
      alpha: z.number().positive("alpha must be positive").max(1024).default(16),
      targets: z
        .array(z.enum(PROJECTIONS, { error: `targets are among ${PROJECTIONS.join(", ")}` }))
        .min(1, "adapt at least one projection")
        .refine((t) => new Set(t).size === t.length, "a target is listed twice")
        .default([...PROJECTIONS]),
    })
    .default({ rank: 8, alpha: 16, targets: [...PROJECTIONS] }),
  learningRate: z.number().gt(0, "the learning rate must be positive").max(0.1, "a learning rate above 0.1 diverges").default(5e-3),
  batchSize: z.number().int().min(1, "batch size is at least 1").max(64, "batch size is at most 64").default(8),
  epochs: z.number().gt(0, "epochs must be positive").max(100, "at most 100 epochs").default(3),
  seqLen: z.number().int().min(8, "sequences are at least 8 tokens").max(512).default(64),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
});

export const classifierJobSchema = z.strictObject({
  method: z.literal("classifier"),
  name,
  owner: address,
  datanets,
  textField: z.string().min(1).default("text"),
  labelField: z.string().min(1).default("label"),
  learningRate: z.number().gt(0, "the learning rate must be positive").max(10, "a learning rate above 10 diverges").default(CLASSIFIER_TRAINING.lr),
  epochs: z.number().int("classifier epochs are whole").min(1).max(200, "at most 200 epochs").default(CLASSIFIER_TRAINING.epochs),
  l2: z.number().min(0).max(1).default(CLASSIFIER_TRAINING.l2),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
});

export const jobSpecSchema = z.discriminatedUnion("method", [loraJobSchema, classifierJobSchema], { error: `method must be one of ${JOB_METHODS.join(", ")}` });

export type LoraJobSpec = z.infer<typeof loraJobSchema>;
export type ClassifierJobSpec = z.infer<typeof classifierJobSchema>;
export type JobSpec = z.infer<typeof jobSpecSchema>;
