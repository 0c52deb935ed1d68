// Test fixtures: every test gets its own Candor server on a fresh data directory (so a clean
// SQLite database), on a free loopback port, reached as http://localhost (a secure context, which
// passkeys need). Pages are checked with axe and for console errors such as CSP violations.
import { test as base, expect, type Page, type Request } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const repoRoot = resolve(__dirname, "..");
const candorBin = process.env.CANDOR_BIN ?? join(repoRoot, "target", "debug", "candor");
const siteRoot = process.env.CANDOR_SITE_ROOT ?? join(repoRoot, "target", "site");

export type Candor = {
  url: string;
  dataDir: string;
  /** Runs a `candor` command against this test's server's database, as its operator would. */
  cli: (args: string[]) => { status: number | null; stdout: string; stderr: string };
};

async function startCandor(): Promise<{ candor: Candor; stop: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), "candor-e2e-"));
  // Backups on, as an operator would run Candor: the first scheduler tick takes one and drills it.
  const keyFile = join(dataDir, "backup.key");
  const keygen = spawnSync(candorBin, ["backup", "keygen", "--out", keyFile], { encoding: "utf8" });
  const recipient = keygen.stdout.split("\n").find((line) => line.startsWith("age1"));
  if (!recipient) throw new Error(`candor backup keygen failed:\n${keygen.stderr}`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CANDOR_DATA_DIR: dataDir,
    CANDOR_LISTEN: "127.0.0.1:0",
    CANDOR_SITE_ROOT: siteRoot,
    CANDOR_LOG: "warn",
    // Each test's instance has its own master key.
    CANDOR_MASTER_KEY: randomBytes(32).toString("base64"),
    CANDOR_BACKUP_DIR: join(dataDir, "backups"),
    CANDOR_BACKUP_RECIPIENT: recipient,
    CANDOR_BACKUP_IDENTITY_FILE: keyFile,
    CANDOR_OPERATOR_EMAIL: "ops@candor.test",
  };
  delete env.CANDOR_MASTER_KEY_FILE;
  // The SQLite database in the fresh data directory, whatever the calling shell had set.
  delete env.CANDOR_DATABASE_URL;
  delete env.CANDOR_CONFIG;
  const child = spawn(candorBin, ["serve"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`Candor did not start in 30 s:\n${stderr}`)), 30_000);
    let stdout = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk.toString();
      const match = stdout.match(/listening on (\S+)/);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`Candor exited with ${code} before listening:\n${stderr}`));
    });
  });
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((done) => child.once("exit", done));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  const cli = (args: string[]) => {
    const run = spawnSync(candorBin, args, { env, encoding: "utf8" });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  };
  return { candor: { url, dataDir, cli }, stop };
}

export const test = base.extend<{ candor: Candor; consoleErrors: string[] }>({
  candor: async ({}, use) => {
    const { candor, stop } = await startCandor();
    await use(candor);
    await stop();
  },
  baseURL: async ({ candor }, use) => {
    await use(candor.url);
  },
  consoleErrors: async ({ page }, use) => {
    const errors: string[] = [];
    page.on("console", (message) => {
      // A refused request (4xx) is an expected answer in many flows; anything else is a defect.
      const expectedRefusal = /Failed to load resource: the server responded with a status of 4\d\d/.test(message.text());
      if (message.type() === "error" && !expectedRefusal) errors.push(message.text());
    });
    page.on("pageerror", (error) => errors.push(error.message));
    await use(errors);
  },
});

export { expect };

/** Waits until the WebAssembly bundle has hydrated the server-rendered page. */
export async function waitForHydration(page: Page) {
  // Hydration compiles the WebAssembly bundle: on a busy two-core machine that can take a while.
  await expect(page.locator("html[data-hydrated]")).toHaveCount(1, { timeout: 30_000 });
}

/** No serious or critical accessibility violations on the current page. */
export async function expectAccessible(page: Page) {
  // A page whose code loads on demand sets its title while it hydrates: check once it has one.
  await expect(page).toHaveTitle(/\S/);
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => `${violation.id}: ${violation.help} (${violation.nodes.map((n) => n.target.join(" ")).join(", ")})`);
  expect(serious).toEqual([]);
}

/** Saves a screenshot for people to look at (end2end/screenshots, not committed). */
export async function snapshot(page: Page, name: string) {
  await page.screenshot({ path: join(__dirname, "screenshots", `${name}.png`), fullPage: true });
}

/**
 * Starts recording which page code split out of the first bundle (`cargo leptos build --split`:
 * `split_*.wasm` per page, `chunk_*.wasm` shared between pages) `page` fetches; `stop` ends the
 * recording and returns the paths fetched.
 */
export function watchSplitCode(page: Page): { stop: () => string[] } {
  const fetched: string[] = [];
  const record = (request: Request) => {
    const path = new URL(request.url()).pathname;
    if (/^\/pkg\/(split|chunk)_[^/]*\.wasm$/.test(path)) fetched.push(path);
  };
  page.on("request", record);
  return {
    stop: () => {
      page.off("request", record);
      return fetched;
    },
  };
}
