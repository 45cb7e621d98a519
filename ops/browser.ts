// Debian's chromium driven by playwright-core, for the browser tests (and
// for README screenshots): headless, a fresh profile each launch.
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";

export const CHROMIUM = process.env.POA_CHROMIUM ?? "/usr/bin/chromium";
export const SCREENSHOTS = join(process.cwd(), "test-output", "screenshots");

/** Launches Debian's chromium headless with a fresh profile, or returns null after saying loudly that it is missing. */
export async function launchChromium(viewport = { width: 1200, height: 900 }): Promise<BrowserContext | null> {
  if (!existsSync(CHROMIUM)) {
    const line = "!".repeat(78);
    console.error(`\n${line}\n!! BROWSER TESTS DID NOT RUN: no chromium at ${CHROMIUM}.\n!! Install it (apt-get install -y chromium; .ci/run does) or set POA_CHROMIUM.\n${line}\n`);
    return null;
  }
  // A fresh profile each time (playwright passes it as --user-data-dir).
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "poa-chromium-")), {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}
