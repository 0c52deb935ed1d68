// Account flows several specs share: signing up with email verification, and the password step.
import { expect, waitForHydration, type Candor } from "./fixtures";
import { delivered, linkIn, totp } from "./support";
import type { Browser, BrowserContextOptions, Page } from "@playwright/test";

export const PASSWORD = "quietly orbiting marmalade kettles";

export async function signUpAndVerify(page: Page, candor: Candor, email: string) {
  await page.goto("/signup");
  await waitForHydration(page);
  await page.getByLabel("Workplace name").fill("Northwind Trading");
  await page.getByLabel("Your name").fill("Ada Lovelace");
  await page.getByLabel("Work email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Create workplace" }).click();
  await expect(page.getByRole("heading", { name: "Check your inbox" })).toBeVisible();

  const [mail] = await delivered(candor.dataDir, (m) => m.includes(`To: ${email}`));
  expect(mail, "a verification email was written to the outbox").toBeTruthy();
  await page.goto(linkIn(mail!, "/verify-email"));
  await waitForHydration(page);
  await page.getByRole("button", { name: "Confirm my email address" }).click();
  await expect(page.getByRole("heading", { name: "Email address confirmed" })).toBeVisible();
}

export async function signIn(page: Page, email: string) {
  await page.goto("/login");
  await waitForHydration(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Continue" }).click();
}

/** A new workplace whose owner is signed in with both factors (an authenticator app); returns the recovery codes. */
export async function enrol(page: Page, candor: Candor, email: string): Promise<string[]> {
  await signUpAndVerify(page, candor, email);
  await signIn(page, email);
  await expect(page).toHaveURL(/\/setup$/);
  await page.goto("/setup/authenticator");
  await waitForHydration(page);
  const secret = (await page.getByTestId("totp-secret").textContent())!.trim();
  await page.getByLabel("Code from the app").fill(totp(secret));
  await page.getByRole("button", { name: "Confirm" }).click();
  // Wait for the codes to be shown before reading them.
  const items = page.getByRole("list", { name: "Recovery codes" }).getByRole("listitem");
  await expect(items).toHaveCount(10);
  return items.allTextContents();
}

/** Accepts the emailed invitation in a new browser (desktop unless `device` says otherwise) and enrols an authenticator. */
export async function join(
  browser: Browser,
  baseURL: string,
  dataDir: string,
  email: string,
  device: { options?: BrowserContextOptions; watch?: (page: Page) => void } = {},
): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...device.options, baseURL });
  const page = await context.newPage();
  device.watch?.(page);
  const [mail] = await delivered(dataDir, (m) => m.includes(`To: ${email}`) && m.includes("invited"));
  expect(mail, `an invitation for ${email}`).toBeTruthy();
  await page.goto(linkIn(mail!, "/invitation"));
  await waitForHydration(page);
  await page.getByLabel("Choose a password").fill("lantern harbour gravel symphony");
  await page.getByRole("button", { name: "Join" }).click();
  await expect(page).toHaveURL(/\/setup$/);
  await setUpAuthenticator(page);
  return page;
}

/** From /setup: sets up an authenticator app and waits for the recovery codes. */
export async function setUpAuthenticator(page: Page) {
  await page.goto("/setup/authenticator");
  await waitForHydration(page);
  const secret = (await page.getByTestId("totp-secret").textContent())!.trim();
  await page.getByLabel("Code from the app").fill(totp(secret));
  await page.getByRole("button", { name: "Confirm" }).click();
  await expect(page.getByRole("heading", { name: "Save your recovery codes" })).toBeVisible();
}

/** On /people, invites everyone in `rows` ("name,email,department,role,start_date") from a CSV file. */
export async function inviteFromCsv(page: Page, rows: string[]) {
  await page.goto("/people");
  await waitForHydration(page);
  await page.getByLabel("CSV file").setInputFiles({
    name: "people.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(["name,email,department,role,start_date", ...rows].join("\n")),
  });
  await page.getByRole("button", { name: "Check file" }).click();
  await page.getByRole("button", { name: `Invite ${rows.length} people` }).click();
  await expect(page.getByText(`${rows.length} people invited; their emails are on their way.`)).toBeVisible();
}
