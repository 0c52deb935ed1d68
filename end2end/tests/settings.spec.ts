import { test, expect, waitForHydration, expectAccessible, snapshot } from "../fixtures";
import { enrol, signIn } from "../flows";

test("a workplace may let people remember a device; the password alone then signs in there", async ({ page, candor, browser }) => {
  const codes = await enrol(page, candor, "ada@northwind.test");
  await page.getByRole("link", { name: /I have saved them/ }).click();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
  await expect(page.getByRole("heading", { name: "Workplace settings" })).toBeVisible();
  await waitForHydration(page);
  await expect(page.getByLabel("Always ask for both factors")).toBeChecked();
  await page.getByLabel("Let people remember a device").check();
  await page.getByLabel("For how many days").fill("30");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText("Saved.")).toBeVisible();
  await expectAccessible(page);
  await snapshot(page, "settings-desktop");

  async function signOut() {
    await page.goto("/home");
    await waitForHydration(page);
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/$/);
  }

  // Remember this device while giving the second factor.
  await signOut();
  await signIn(page, "ada@northwind.test");
  await expect(page).toHaveURL(/\/login\/code$/);
  await waitForHydration(page);
  await page.getByLabel("Remember this device for 30 days").check();
  await page.getByLabel("Code").fill(codes[0]);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();

  // Next time the password alone signs in on this device.
  await signOut();
  await signIn(page, "ada@northwind.test");
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();
  // The remembered device signs in, but is no confirmation: changing the password or the
  // factors asks for a code first.
  await page.goto("/sign-in-methods");
  await waitForHydration(page);
  await expect(page.getByRole("heading", { name: "Confirm it is you" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Change password" })).toHaveCount(0);
  const refused = await page.request.post("/api/factors/new_recovery_codes");
  expect(refused.status()).toBe(403);
  expect((await refused.json()).code).toBe("auth.reauthentication_required");

  // Another browser has no remembered device: both factors.
  const laptop = await browser.newContext({ baseURL: candor.url });
  const other = await laptop.newPage();
  await signIn(other, "ada@northwind.test");
  await expect(other).toHaveURL(/\/login\/code$/);
  await laptop.close();

  // Switching the setting off forgets every remembered device.
  await page.goto("/settings");
  await waitForHydration(page);
  await page.getByLabel("Always ask for both factors").check();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText("Saved.")).toBeVisible();
  await signOut();
  await signIn(page, "ada@northwind.test");
  await expect(page).toHaveURL(/\/login\/code$/);
});

test("an owner sets how many answers a team needs before its results show", async ({ page, candor }) => {
  await enrol(page, candor, "ada@northwind.test");
  await page.goto("/settings");
  await waitForHydration(page);
  const figures = page.getByLabel("Minimum answers for figures");
  await expect(figures).toHaveValue("5");
  // Comments may ask for more than figures, never less.
  await figures.fill("6");
  await page.getByRole("button", { name: "Save minimums" }).click();
  await expect(page.getByRole("alert")).toContainText("not below the minimum for figures");
  await figures.fill("4");
  await page.getByLabel("Minimum answers for comments").fill("6");
  await page.getByRole("button", { name: "Save minimums" }).click();
  await expect(page.getByText("Saved. Rounds that close from now on use it")).toBeVisible();
  await page.reload();
  // Settings' code loads on demand: the reloaded form answers only once it has hydrated.
  await waitForHydration(page);
  await expect(page.getByLabel("Minimum answers for figures")).toHaveValue("4");
  await expect(page.getByLabel("Minimum answers for comments")).toHaveValue("6");
  // Tenure bands: boundaries in whole years, going up.
  const bounds = page.getByLabel("Band boundaries in years");
  await expect(bounds).toHaveValue("1, 2, 5");
  await bounds.fill("3, 2");
  await page.getByRole("button", { name: "Save tenure bands" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "boundaries go up" })).toBeVisible();
  await bounds.fill("1, 3, 10");
  await page.getByRole("button", { name: "Save tenure bands" }).click();
  await expect(page.getByText("Saved. Rounds that close from now on use these bands.")).toBeVisible();
  await page.reload();
  await waitForHydration(page);
  await expect(page.getByLabel("Band boundaries in years")).toHaveValue("1, 3, 10");
  await expectAccessible(page);
  await snapshot(page, "settings-anonymity");
});

test("an owner opts the workplace in to benchmarks, and out again", async ({ page, candor }) => {
  await enrol(page, candor, "ada@northwind.test");
  await page.goto("/settings");
  await waitForHydration(page);
  const takePart = page.getByLabel("Take part in benchmarks");
  await expect(takePart).not.toBeChecked();
  await takePart.check();
  await page.getByRole("button", { name: "Save benchmark choice" }).click();
  await expect(page.getByText("The platform figures are refreshed within a day.")).toBeVisible();
  await page.reload();
  await waitForHydration(page);
  await expect(page.getByLabel("Take part in benchmarks")).toBeChecked();
  await expectAccessible(page);
  await page.getByLabel("Take part in benchmarks").uncheck();
  await page.getByRole("button", { name: "Save benchmark choice" }).click();
  await expect(page.getByText("The platform figures are refreshed within a day.")).toBeVisible();
  await page.reload();
  await waitForHydration(page);
  await expect(page.getByLabel("Take part in benchmarks")).not.toBeChecked();
});

test("an owner grants Candor support access for a few hours, and revokes it; both are in the access log", async ({ page, candor }) => {
  await enrol(page, candor, "ada@northwind.test");
  await page.goto("/settings");
  await waitForHydration(page);
  const support = page.getByRole("region", { name: "Support access" });
  await support.getByLabel(/For how many hours/).fill("4");
  await support.getByRole("button", { name: "Grant support access" }).click();
  await expect(support.getByRole("status")).toContainText("Live until");
  await expectAccessible(page);
  await snapshot(page, "support-access");
  await support.getByRole("button", { name: "Revoke support access" }).click();
  await expect(support.getByRole("list", { name: "Support access history" })).toContainText("Revoked");
  await expect(support.getByRole("button", { name: "Grant support access" })).toBeVisible();
  await page.goto("/audit");
  await waitForHydration(page);
  await page.getByLabel("Action starts with").fill("support.");
  await page.getByRole("button", { name: "Apply filter" }).click();
  const entries = page.getByRole("region", { name: "Entries" });
  await expect(entries).toContainText("support.access_granted");
  await expect(entries).toContainText("support.access_revoked");
});
