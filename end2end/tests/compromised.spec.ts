import { test, expect, waitForHydration, expectAccessible, snapshot, type Candor } from "../fixtures";
import { enrol, join, setUpAuthenticator } from "../flows";
import { outbox, delivered, linkIn } from "../support";
import type { Page } from "@playwright/test";

const EVE_PASSWORD = "lantern harbour gravel symphony";

/** Signs Eve in with `password`: refused while her account is secured, with a link mailed. */
async function signInRefused(page: Page, password: string) {
  await page.goto("/login");
  await waitForHydration(page);
  await page.getByLabel("Email").fill("eve@northwind.test");
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByRole("alert")).toContainText("Choose a new password with the link we have emailed you");
}

/** Follows the newest reset link in Eve's mail and chooses a new password: never the old one. */
async function chooseNewPassword(page: Page, candor: Candor, old: string, fresh: string, links: number) {
  const resetMails = () => outbox(candor.dataDir).filter((m) => m.includes("To: eve@northwind.test") && m.includes("Subject: Reset your Candor password"));
  await expect.poll(() => resetMails().length, { message: "a reset link was mailed" }).toBe(links);
  await page.goto(linkIn(resetMails()[links - 1], "/reset-password"));
  await waitForHydration(page);
  await expectAccessible(page);
  await page.getByLabel("New password").fill(old);
  await page.getByRole("button", { name: "Save new password" }).click();
  await expect(page.getByRole("alert")).toContainText("must differ from the old one");
  await page.getByLabel("New password").fill(fresh);
  await page.getByRole("button", { name: "Save new password" }).click();
  await expect(page.getByRole("heading", { name: "Password changed" })).toBeVisible();
}

async function signInWithCode(page: Page, password: string, code: string) {
  await page.goto("/login");
  await waitForHydration(page);
  await page.getByLabel("Email").fill("eve@northwind.test");
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page).toHaveURL(/\/login\/code$/);
  await waitForHydration(page);
  await page.getByLabel("Code").fill(code);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Welcome, Eve Night" })).toBeVisible();
}

test("an account that may be compromised is secured by its owner, then by an HR admin, and the watchers are told", async ({
  page,
  candor,
  browser,
}) => {
  test.setTimeout(240_000);
  await enrol(page, candor, "ada@northwind.test");
  await page.goto("/people");
  await waitForHydration(page);
  await page.getByLabel("Full name").fill("Eve Night");
  await page.getByLabel("Work email").fill("eve@northwind.test");
  await page.getByLabel("Role").selectOption({ label: "Employee" });
  await page.getByRole("button", { name: "Send invitation" }).click();
  await expect(page.getByText("Invitation sent.")).toBeVisible();
  const eve = await join(browser, candor.url, candor.dataDir, "eve@northwind.test");
  const codes = await eve.getByRole("list", { name: "Recovery codes" }).getByRole("listitem").allTextContents();

  // Eve thinks someone saw her type her password: she secures her account herself.
  await eve.goto("/sessions");
  await waitForHydration(eve);
  await expectAccessible(eve);
  await eve.getByRole("button", { name: "Secure my account" }).click();
  await expect(eve.getByRole("heading", { name: "Your account is secured" })).toBeVisible();
  await expect(eve.getByRole("status")).toContainText("1 session was signed out, this one too");
  await snapshot(eve, "account-secured-desktop");
  await eve.goto("/home");
  await expect(eve.getByRole("alert")).toHaveText("Please sign in.");
  // Her old password no longer signs her in (whoever else knows it gets nowhere); a link to
  // choose a new one goes to her address.
  await signInRefused(eve, EVE_PASSWORD);
  await snapshot(eve, "secured-sign-in-desktop");
  await chooseNewPassword(eve, candor, EVE_PASSWORD, "fresh tidal compass meadow", 1);
  await signInWithCode(eve, "fresh tidal compass meadow", codes[0]);

  // Later her phone is stolen: Ada secures the account and removes her factors too.
  await page.goto("/people");
  await waitForHydration(page);
  await page.getByRole("link", { name: "Eve Night" }).click();
  await expect(page.getByRole("heading", { name: "Eve Night" })).toBeVisible();
  await waitForHydration(page);
  const card = page.getByRole("region", { name: "Account may be compromised" });
  await card.getByLabel(/Also remove their second factors/).check();
  await card.getByRole("button", { name: "Secure this account" }).click();
  await expect(card.getByRole("status")).toContainText("Their account is secured: 1 session ended");
  await expectAccessible(page);
  await snapshot(page, "person-secured-desktop");
  await eve.goto("/home");
  await expect(eve.getByRole("alert")).toHaveText("Please sign in.");
  // With her factors gone, a stolen password gets nowhere either: the link comes first, then
  // she sets up a new factor.
  await signInRefused(eve, "fresh tidal compass meadow");
  await chooseNewPassword(eve, candor, "fresh tidal compass meadow", "quiet copper lantern orchard", 2);
  await eve.goto("/login");
  await waitForHydration(eve);
  await eve.getByLabel("Email").fill("eve@northwind.test");
  await eve.getByLabel("Password").fill("quiet copper lantern orchard");
  await eve.getByRole("button", { name: "Continue" }).click();
  await expect(eve).toHaveURL(/\/setup$/);
  await setUpAuthenticator(eve);

  // Each raised an alert: once the monitor has run, the Owner sees both and was mailed.
  const secured = page.getByRole("region", { name: "Alerts" }).getByRole("listitem").filter({ hasText: "an account was secured because it may be compromised" });
  await expect(async () => {
    await page.goto("/audit");
    await expect(secured).toHaveCount(2, { timeout: 2_000 });
  }).toPass({ timeout: 100_000, intervals: [5_000] });
  await expect(secured.filter({ hasText: "Eve Night" })).toHaveCount(1);
  await expect(secured.filter({ hasText: "Ada Lovelace" })).toHaveCount(1);
  await delivered(candor.dataDir, (m) => m.includes("To: ada@northwind.test") && m.includes("Subject: Candor security alert"));
});

test("on a phone, the secure-account section reads and its button is reachable", async ({ page, candor }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await enrol(page, candor, "ada@northwind.test");
  await page.goto("/sessions");
  await waitForHydration(page);
  await expect(page.getByRole("heading", { name: "My account may be compromised" })).toBeVisible();
  const button = page.getByRole("button", { name: "Secure my account" });
  await button.scrollIntoViewIfNeeded();
  await expect(button).toBeInViewport();
  // The button spans the width on a phone, like the page's other actions.
  const box = (await button.boundingBox())!;
  expect(box.width).toBeGreaterThan(300);
  await expectAccessible(page);
  await snapshot(page, "sessions-phone");
});
