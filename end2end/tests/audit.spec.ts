import { test, expect, waitForHydration, expectAccessible, snapshot } from "../fixtures";
import { enrol, inviteFromCsv, join } from "../flows";
import { delivered } from "../support";
import { readFileSync } from "node:fs";

test("an Auditor finds the HR admin's export of results in the access log and reviews it", async ({ page, candor, browser, consoleErrors }) => {
  test.setTimeout(240_000);
  await enrol(page, candor, "ada@northwind.test");
  await inviteFromCsv(page, ["Hana Admin,hana@northwind.test,,HR admin,", "Otto Auditor,otto@northwind.test,,Auditor,"]);
  const hana = await join(browser, candor.url, candor.dataDir, "hana@northwind.test");
  const otto = await join(browser, candor.url, candor.dataDir, "otto@northwind.test");

  // Hana (HR admin) starts a pulse and downloads its first round's results.
  await hana.goto("/surveys");
  await waitForHydration(hana);
  await hana.getByLabel("Title").fill("Quarterly pulse");
  await hana.getByLabel(/My workload is manageable/).check();
  await hana.getByRole("button", { name: "Create survey" }).click();
  await expect(hana.getByRole("status")).toContainText("Survey created");
  // Results exist only once a round closes: she closes the first one now.
  await hana.getByRole("button", { name: "Close round 1 now" }).click();
  await expect(hana.getByRole("status").filter({ hasText: "Round closed" })).toBeVisible();
  await hana.goto("/results");
  await waitForHydration(hana);
  await hana.getByRole("link", { name: "Results of Quarterly pulse round 1" }).click();
  await waitForHydration(hana);
  const downloading = hana.waitForEvent("download");
  await hana.getByRole("button", { name: "Download CSV" }).click();
  await downloading;

  // Otto (Auditor) opens the access log and narrows it to exports.
  await otto.goto("/home");
  await waitForHydration(otto);
  await otto.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Access log" }).click();
  await expect(otto.getByRole("heading", { name: "Access log", level: 1 })).toBeVisible();
  await waitForHydration(otto);
  await otto.getByLabel("Person", { exact: true }).selectOption({ label: "Hana Admin" });
  await otto.getByLabel("Action starts with").fill("results/export");
  await otto.getByRole("button", { name: "Apply filter" }).click();
  const entries = otto.getByRole("region", { name: "Entries" });
  await expect(entries.getByRole("row").filter({ hasText: "results/export" }).first()).toContainText("Hana Admin");
  await expect(entries.getByRole("row").filter({ hasText: "people/" })).toHaveCount(0);
  await expectAccessible(otto);
  await snapshot(otto, "audit-desktop");

  // He marks it reviewed with a note, and downloads what he filtered as JSON.
  const row = entries.getByRole("row").filter({ hasText: "results/export" }).first();
  await row.getByText("Mark reviewed").click();
  await row.getByLabel(/Note for entry/).fill("Board pack, agreed with HR.");
  await row.getByRole("button", { name: "Save review" }).click();
  await expect(entries).toContainText("Reviewed by Otto Auditor");
  await expect(entries).toContainText("Board pack, agreed with HR.");
  const json = otto.waitForEvent("download");
  await otto.getByRole("button", { name: "Download JSON" }).click();
  const file = await json;
  const exported = JSON.parse(readFileSync((await file.path())!, "utf8"));
  expect(exported.length).toBeGreaterThan(0);
  expect(exported.every((e: { action: string }) => e.action.startsWith("results/export"))).toBe(true);
  // The stored entries name people by id only.
  expect(JSON.stringify(exported)).not.toContain("Hana");
  expect(JSON.stringify(exported)).not.toContain("hana@northwind.test");

  // The export of the log is itself in the log.
  await otto.getByLabel("Person", { exact: true }).selectOption({ label: "Otto Auditor" });
  await otto.getByLabel("Action starts with").fill("audit/export");
  await otto.getByRole("button", { name: "Apply filter" }).click();
  await expect(entries.getByRole("row").filter({ hasText: "audit/export" }).first()).toBeVisible();

  // Ada (Owner) tightens a monitoring threshold: an audit-relevant change, which raises an alert
  // once the scheduler's monitor has run (every minute).
  await page.goto("/audit");
  await waitForHydration(page);
  await page.getByLabel("Alert after exports by one person (1 h)").fill("3");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText("Saved.")).toBeVisible();
  const alerts = otto.getByRole("region", { name: "Alerts" });
  await expect(async () => {
    await otto.reload();
    await expect(alerts).toContainText("a change to audit-relevant settings or rights", { timeout: 2_000 });
  }).toPass({ timeout: 100_000, intervals: [5_000] });
  await expect(alerts).toContainText("by Ada Lovelace");
  await snapshot(otto, "audit-alert-desktop");
  await delivered(candor.dataDir, (m) => m.includes("To: otto@northwind.test") && m.includes("Subject: Candor security alert"));
  await page.goto("/home");
  await expect(page.getByRole("alert")).toContainText("1 open security alert");
  await otto.getByRole("button", { name: "Acknowledge" }).click();
  await expect(alerts).toContainText("Acknowledged by Otto Auditor");
  await page.reload();
  await waitForHydration(page);
  await expect(page.getByText("open security alert")).toHaveCount(0);

  // On a phone the page still reads, the table scrolls sideways.
  await otto.setViewportSize({ width: 390, height: 844 });
  await expectAccessible(otto);
  await snapshot(otto, "audit-phone");
  // The table scrolls inside its card; the page itself never scrolls sideways.
  expect(await otto.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

  // Employees and HR admins have no access log.
  await hana.goto("/audit");
  await waitForHydration(hana);
  await expect(hana.getByRole("heading", { name: "Not available" })).toBeVisible();
  expect(consoleErrors).toEqual([]);
});
