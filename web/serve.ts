// The web app at /app/: static ES modules from web/public/ (no build step) and the
// few browser libraries it imports, served from node_modules under
// /app/vendor/ so the page works offline. The explorer's pages join this app.
import express, { type Express } from "express";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
/** A package's folder (htm's exports hide its package.json from require.resolve). */
function pkg(name: string): string {
  for (const dir of require.resolve.paths(name) ?? []) if (existsSync(join(dir, name, "package.json"))) return join(dir, name);
  throw new Error(`the web app needs the npm package ${name}: run npm ci`);
}

/** Browser libraries by the name the import map gives them (web/index.html). */
export const VENDOR: ReadonlyMap<string, string> = new Map(Object.entries({
  "preact.mjs": join(pkg("preact"), "dist", "preact.mjs"),
  "hooks.mjs": join(pkg("preact"), "hooks", "dist", "hooks.mjs"),
  "htm.mjs": join(pkg("htm"), "dist", "htm.mjs"),
  "uPlot.esm.js": join(pkg("uplot"), "dist", "uPlot.esm.js"),
  "uPlot.min.css": join(pkg("uplot"), "dist", "uPlot.min.css"),
  // Loaded only by the explorer's "verify in your browser" (a self-contained bundle).
  "snarkjs.min.js": join(pkg("snarkjs"), "build", "snarkjs.min.js"),
})); // a Map: a name such as "constructor" or "__proto__" is no file, not an object property

export function serveWebApp(app: Express): void {
  app.get("/", (_req, res) => res.redirect(302, "/app/"));
  app.get("/app/vendor/:file", (req, res) => {
    const file = VENDOR.get(String(req.params.file));
    if (!file) return void res.status(404).json({ error: { code: "not_found", message: `no vendor file ${req.params.file}` } });
    res.sendFile(file, { maxAge: "1h" });
  });
  app.use("/app", express.static(join(here, "public"), { index: "index.html", dotfiles: "ignore" }));
}
