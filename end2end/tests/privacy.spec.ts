import { test, expect, waitForHydration, expectAccessible, snapshot } from "../fixtures";
import { enrol, inviteFromCsv, join } from "../flows";
import { readFileSync } from "node:fs";

test("an HR admin gives a person a copy of their data, then erases them", async ({ page, candor, browser, consoleErrors }) => {
  test.setTimeout(180_000);
  await enrol(page, candor, "ada@northwind.test");
  await inviteFromCsv(page, ["Hana Admin,hana@northwind.test,,HR admin,", "Philippa Ostrander,philippa@northwind.test,,Employee,2024-03-01"]);
  const hana = await join(browser, candor.url, candor.dataDir, "hana@northwind.test");

  // Hana finds Philippa and records her request for erasure, received today.
  await hana.goto("/people");
  await waitForHydration(hana);
  await hana.getByLabel("Search").fill("ostrander");
  await hana.getByRole("link", { name: "Philippa Ostrander" }).click();
  await expect(hana.getByRole("heading", { name: "Philippa Ostrander", level: 1 })).toBeVisible();
  await waitForHydration(hana);
  await hana.getByLabel("Request received").selectOption({ label: "Erasure" });
  await hana.getByRole("button", { name: "Record request" }).click();
  await expect(hana.getByText("Request recorded.")).toBeVisible();
  await expectAccessible(hana);
  await snapshot(hana, "person-data-protection-desktop");

  // First a copy of her data: readable, and as a JSON file.
  await hana.getByRole("link", { name: "Open their data" }).click();
  await expect(hana.getByRole("heading", { name: "Data held about Philippa Ostrander" })).toBeVisible();
  await waitForHydration(hana);
  const profile = hana.getByRole("heading", { name: "Profile" }).locator("xpath=..");
  await expect(profile).toContainText("philippa@northwind.test");
  await expect(profile).toContainText("2024-03-01");
  await expect(hana.getByText("Survey answers and comments: they are stored without any link to a person")).toBeVisible();
  await expectAccessible(hana);
  await snapshot(hana, "person-data-desktop");
  const downloading = hana.waitForEvent("download");
  await hana.getByRole("button", { name: "Download as JSON" }).click();
  const file = await downloading;
  const copy = JSON.parse(readFileSync((await file.path())!, "utf8"));
  expect(copy.person.name).toBe("Philippa Ostrander");
  expect(copy.person.email).toBe("philippa@northwind.test");
  expect(JSON.stringify(copy)).not.toContain("Hana");
  expect(JSON.stringify(copy)).not.toContain("ada@northwind.test");
  // Opening or reloading the page recorded nothing (a GET changes nothing): the copy is in the
  // register once it is recorded as handed over.
  await hana.reload();
  await waitForHydration(hana);
  const before = await (await hana.request.post("/api/privacy/requests")).json();
  expect(JSON.stringify(before.rows)).not.toContain("Copy of their data");
  await hana.getByRole("button", { name: "Record the copy as handed over" }).click();
  await expect(hana.getByRole("status")).toContainText("Recorded: their request for a copy is carried out.");

  // Then erasure: explained, confirmed by typing her name.
  await hana.getByRole("link", { name: "Philippa Ostrander" }).click();
  await waitForHydration(hana);
  await hana.getByText("Erase this person").click();
  await expect(hana.getByText("stay, as anonymous figures that were never linked to them")).toBeVisible();
  await hana.getByLabel("Type “Philippa Ostrander” to confirm").fill("Philippa");
  await hana.getByRole("button", { name: "Erase permanently" }).click();
  await expect(hana.getByRole("alert")).toContainText("type the person's name exactly as shown");
  await hana.getByLabel("Type “Philippa Ostrander” to confirm").fill("Philippa Ostrander");
  await hana.getByRole("button", { name: "Erase permanently" }).click();
  await expect(hana).toHaveURL(/\/data-requests\?erased=1$/);
  await expect(hana.getByRole("status").first()).toContainText("The person was erased");

  // The register: both requests carried out, the person no longer named.
  const rows = hana.getByRole("table", { name: "Data-protection requests" }).getByRole("row");
  await expect(rows).toHaveCount(3);
  await expect(rows.filter({ hasText: "Erasure" })).toContainText("Erased person");
  await expect(rows.filter({ hasText: "Copy of their data" })).toContainText("Hana Admin");
  await expect(hana.getByText("0 open, 0 overdue, 2 in all.")).toBeVisible();
  await expect(hana.getByText("Philippa")).toHaveCount(0);
  await expectAccessible(hana);
  await snapshot(hana, "data-requests-desktop");
  await hana.setViewportSize({ width: 390, height: 844 });
  await snapshot(hana, "data-requests-phone");
  const width = await hana.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(390);

  // She is gone from the people list.
  await hana.goto("/people");
  await waitForHydration(hana);
  await expect(hana.getByRole("link", { name: "Hana Admin" })).toBeVisible();
  await expect(hana.getByRole("link", { name: "Philippa Ostrander" })).toHaveCount(0);
  expect(consoleErrors).toEqual([]);
});
