import { enrol } from "../flows";
import { test, expect, waitForHydration, expectAccessible, snapshot } from "../fixtures";

test("the landing page is served, hydrates and is accessible", async ({ page, consoleErrors }) => {
  const response = await page.goto("/");
  expect(response?.status()).toBe(200);
  const csp = response?.headers()["content-security-policy"] ?? "";
  expect(csp).toContain("'nonce-");
  expect(csp).not.toContain("unsafe-inline");
  await expect(page).toHaveTitle("Candor");
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Hear how your teams are doing");
  await waitForHydration(page);
  await expectAccessible(page);
  await snapshot(page, "landing-desktop");
  // Hydration ran under the page's CSP: no blocked script, no panic.
  expect(consoleErrors).toEqual([]);
});

test("on a phone the menu opens and leads to the Security page", async ({ page, consoleErrors }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto("/");
  await waitForHydration(page);
  const menu = page.getByRole("button", { name: "Menu" });
  await expect(menu).toHaveAttribute("aria-expanded", "false");
  await expect(page.getByRole("navigation", { name: "Main" })).toBeHidden();
  await snapshot(page, "landing-phone");
  await menu.click();
  await expect(menu).toHaveAttribute("aria-expanded", "true");
  const nav = page.getByRole("navigation", { name: "Main" });
  await nav.getByRole("link", { name: "Security" }).click();
  await expect(page).toHaveURL(/\/security$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Security of this instance");
  // Navigating closed the menu again.
  await expect(menu).toHaveAttribute("aria-expanded", "false");
  await expect(page.getByRole("definition").first()).toBeVisible();
  await expectAccessible(page);
  await snapshot(page, "security-phone");
  expect(consoleErrors).toEqual([]);
});

test("the Security page shows facts read from the running instance", async ({ page, candor, consoleErrors }) => {
  await page.goto("/security");
  await waitForHydration(page);
  const fact = (term: string) => page.getByRole("term").filter({ hasText: new RegExp(`^${term}$`) }).locator("xpath=following-sibling::dd[1]");
  await expect(fact("Database")).toHaveText("SQLite");
  await expect(fact("Connection security")).toContainText("loopback");
  // What an attacker would plan with is not on the public page.
  await expect(page.getByRole("term").filter({ hasText: /^Database schema$/ })).toHaveCount(0);
  await expect(page.getByRole("heading", { name: "How this instance is run" })).toHaveCount(0);
  await expect(fact("Password storage")).toContainText("argon2id, 19456 KiB memory, 2 passes, 1 lane");
  await expect(fact("Signing in")).toContainText("10 failures from one address within 5 minutes block it for 15 minutes");
  // A fresh instance: the master key was recorded at start, no workplace exists yet.
  const encryption = fact("Encryption of personal fields");
  await expect(encryption).toContainText(
    "AES-256-GCM-SIV for people's names, email addresses, where sessions signed in from (browser and network), survey comments, replies to comments, check-in answers waiting for their round to close and authenticator app seeds",
  );
  await expect(encryption).not.toContainText("Master key in use since");
  // Backups as configured, and the scheduler's first backup and restore drill as recorded.
  await expect(fact("Backups")).toContainText("Daily, encrypted (age: X25519 and ChaCha20-Poly1305)");
  await expect(fact("Backups")).toContainText("kept 30 days");
  await expect(fact("Restore drills")).toContainText("Every 7 days the newest backup is restored into a scratch database");
  await expect(fact("Backups")).not.toContainText("last backup");
  await expect(fact("Database")).toHaveText("SQLite");
  await expect(fact("Data retention")).toContainText("people who left are erased after 12 months and comments 24 months");
  await expect(fact("Data retention")).toContainText("A workplace's deletion waits 30 days");
  await page.getByRole("link", { name: "Subprocessors" }).first().click();
  await expect(page.getByRole("heading", { name: "Subprocessors", level: 1 })).toBeVisible();
  await expect(page.getByText("This instance uses no subprocessors")).toBeVisible();
  await page.goBack();
  await expectAccessible(page);
  await snapshot(page, "security-desktop");

  // The workplace's Owner also sees when the scheduler's first backup and restore drill ran.
  await enrol(page, candor, "ada@northwind.test");
  await page.goto("/security");
  await waitForHydration(page);
  const operations = page.getByRole("region", { name: "Backups and restores, as they ran" });
  const operation = (term: string) => operations.getByRole("term").filter({ hasText: new RegExp(`^${term}$`) }).locator("xpath=following-sibling::dd[1]");
  await expect(async () => {
    await page.reload();
    await expect(operation("Latest backup")).toContainText(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/, { timeout: 2_000 });
    await expect(operation("Latest restore drill")).toContainText(/Last passed \d{4}-\d{2}-\d{2}/, { timeout: 2_000 });
  }).toPass({ timeout: 30_000 });
  await expectAccessible(page);
  await snapshot(page, "security-owner-desktop");
  expect(consoleErrors).toEqual([]);
});

test("an unknown address answers 404 with a styled page", async ({ page }) => {
  const response = await page.goto("/no/such/page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Back to the start" })).toBeVisible();
  await expectAccessible(page);
  await snapshot(page, "not-found-desktop");
});

test("each test starts from its own clean database", async ({ candor, page }) => {
  // The fixture gave this test a data directory of its own; the server created and migrated it.
  expect(candor.dataDir).toContain("candor-e2e-");
  const ready = await page.request.get("/readyz");
  expect(ready.status()).toBe(200);
  expect(await ready.text()).toBe("ready");
});
