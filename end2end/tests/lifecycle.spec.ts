import { test, expect, waitForHydration, expectAccessible, snapshot } from "../fixtures";
import { enrol } from "../flows";
import { delivered } from "../support";

test("an owner asks for the workplace's deletion with a grace period; the Owners are told, and cancelling stops it", async ({ page, candor, consoleErrors }) => {
  await enrol(page, candor, "ada@northwind.test");
  await page.goto("/settings");
  await waitForHydration(page);
  const danger = page.getByRole("region", { name: "Delete this workplace" });
  await expect(danger).toBeVisible();
  const request = danger.getByRole("button", { name: "Request deletion" });
  await expect(danger.getByLabel(/Delete after \(days, 7 to 90\)/)).toHaveValue("30");
  await expect(request).toBeDisabled();
  await danger.getByLabel("Type Northwind Trading to confirm").fill("Northwind");
  await expect(request).toBeDisabled();
  await danger.getByLabel("Type Northwind Trading to confirm").fill("Northwind Trading");
  // Too short a grace period is refused before anything is sent (the server checks it too).
  await danger.getByLabel(/Delete after/).fill("3");
  await request.click();
  expect(await danger.getByLabel(/Delete after/).evaluate((input) => (input as HTMLInputElement).validationMessage)).not.toBe("");
  await expect(page.getByRole("region", { name: "Deletion requested" })).toHaveCount(0);
  await danger.getByLabel(/Delete after/).fill("14");
  await expectAccessible(page);
  await snapshot(page, "settings-delete");
  await request.click();

  const pending = page.getByRole("region", { name: "Deletion requested" });
  await expect(pending.getByRole("status")).toContainText("Ada Lovelace asked on");
  await expect(pending.getByRole("status")).toContainText("(in 14 days)");
  await expectAccessible(page);
  await snapshot(page, "settings-deletion-pending");
  const [told] = await delivered(candor.dataDir, (m) => m.includes("is to be deleted on"));
  expect(told, "the Owner is emailed").toBeTruthy();
  expect(told).toContain("To: ada@northwind.test");
  expect(told).toContain("Ada Lovelace asked for the workplace Northwind Trading to be deleted");

  // Home warns every Owner until it is cancelled; the workplace works as usual meanwhile.
  await page.goto("/home");
  const banner = page.getByRole("alert", { name: "Workplace deletion" });
  await expect(banner).toContainText("This workplace is to be deleted on");
  await expectAccessible(page);
  await page.setViewportSize({ width: 390, height: 844 });
  await snapshot(page, "home-deletion-phone");
  await page.setViewportSize({ width: 1280, height: 800 });
  await banner.getByRole("link", { name: "Review or cancel in Settings" }).click();
  await waitForHydration(page);
  await page.getByRole("button", { name: "Cancel the deletion" }).click();
  await expect(page.getByText("The deletion was cancelled. Every Owner was told.")).toBeVisible();
  await expect(page.getByRole("region", { name: "Delete this workplace" })).toBeVisible();
  await delivered(candor.dataDir, (m) => m.includes("Subject: Candor: deletion of Northwind Trading cancelled"));
  await page.goto("/home");
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();
  await expect(page.getByRole("alert", { name: "Workplace deletion" })).toHaveCount(0);
  expect(consoleErrors).toEqual([]);
});

test("an owner sets how long people who left and comments are kept", async ({ page, candor, consoleErrors }) => {
  await enrol(page, candor, "ada@northwind.test");
  await page.goto("/settings");
  await waitForHydration(page);
  const people = page.getByRole("group", { name: "People who left" });
  const comments = page.getByRole("group", { name: "Comments" });
  await expect(people.getByLabel("Erase after (months)")).toHaveValue("12");
  await expect(comments.getByLabel("Erase after (months)")).toHaveValue("24");
  await expect(page.getByText("These are the defaults")).toBeVisible();
  await expect(page.getByText("Access log: entries are kept 365 days.")).toBeVisible();
  await people.getByLabel("Erase after (months)").fill("0");
  await page.getByRole("button", { name: "Save retention" }).click();
  expect(await people.getByLabel("Erase after (months)").evaluate((input) => (input as HTMLInputElement).validationMessage)).not.toBe("");
  await people.getByLabel("Erase after (months)").fill("6");
  await comments.getByLabel("Keep until removed by hand").check();
  await page.getByRole("button", { name: "Save retention" }).click();
  await expect(page.getByText("Saved. The next daily run applies it.")).toBeVisible();
  await page.reload();
  await waitForHydration(page);
  await expect(page.getByRole("group", { name: "People who left" }).getByLabel("Erase after (months)")).toHaveValue("6");
  await expect(page.getByRole("group", { name: "Comments" }).getByLabel("Keep until removed by hand")).toBeChecked();
  await expect(page.getByText("These are the defaults")).toHaveCount(0);
  await page.getByRole("heading", { name: "Data retention" }).scrollIntoViewIfNeeded();
  await expectAccessible(page);
  await snapshot(page, "settings-retention");
  await page.setViewportSize({ width: 390, height: 844 });
  await snapshot(page, "settings-phone");
  expect(consoleErrors).toEqual([]);
});

test("the operator adds a subprocessor; Owners are emailed and told on Home, and everyone can read the list", async ({ page, candor, consoleErrors }) => {
  await enrol(page, candor, "ada@northwind.test");
  const hosting = candor.cli([
    "subprocessors", "add", "--name", "Hetzner Online", "--purpose", "Hosting the servers and backups",
    "--location", "Germany", "--data", "All workplace data, encrypted", "--from", "today",
  ]);
  expect(hosting.status, hosting.stderr).toBe(0);
  expect(hosting.stdout).toContain("announced to the Owners of 1 workplaces (1 emails queued; `candor serve` delivers them)");
  const mail = candor.cli([
    "subprocessors", "add", "--name", "Postmark", "--purpose", "Sending email",
    "--location", "United States", "--data", "Names and email addresses",
  ]);
  expect(mail.status, mail.stderr).toBe(0);
  const announced = await delivered(candor.dataDir, (m) => m.includes("Subject: Candor: a change to our subprocessors"), 2);
  expect(announced.length).toBe(2);
  expect(announced[1]).toContain("Postmark (United States) added for Sending email");

  await page.goto("/home");
  const changes = page.getByRole("region", { name: "Changes to our subprocessors" });
  await expect(changes).toContainText("Hetzner Online (Germany) added");
  await expect(changes).toContainText("Postmark (United States) added");
  await expectAccessible(page);
  await snapshot(page, "home-subprocessors");
  await changes.getByRole("link", { name: "The full list" }).click();
  await expect(page.getByRole("heading", { name: "Subprocessors", level: 1 })).toBeVisible();

  // The list is public: signed out too.
  await page.context().clearCookies();
  await page.goto("/subprocessors");
  await waitForHydration(page);
  const inUse = page.getByRole("region", { name: "In use", exact: true });
  await expect(inUse.getByRole("heading", { name: "Hetzner Online" })).toBeVisible();
  await expect(inUse).toContainText("Germany");
  const planned = page.getByRole("region", { name: "Announced, not yet in use" });
  await expect(planned.getByRole("heading", { name: "Postmark" })).toBeVisible();
  await expect(page.getByRole("region", { name: "Changes", exact: true }).getByRole("listitem")).toHaveCount(2);
  await expectAccessible(page);
  await snapshot(page, "subprocessors-desktop");
  await page.setViewportSize({ width: 390, height: 844 });
  await snapshot(page, "subprocessors-phone");
  await page.getByRole("contentinfo").getByRole("link", { name: "Subprocessors" }).click();
  await expect(page).toHaveURL(/\/subprocessors$/);
  expect(consoleErrors).toEqual([]);
});
