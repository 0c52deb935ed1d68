import { test, expect, waitForHydration, expectAccessible, snapshot } from "../fixtures";
import { enrol } from "../flows";
import { delivered } from "../support";

test("a signed-in person asks the operators for help; the question reaches the support inbox and nothing else", async ({ page, candor, consoleErrors }) => {
  await enrol(page, candor, "ada@northwind.test");
  await page.goto("/home");
  await waitForHydration(page);
  await page.getByRole("contentinfo").getByRole("link", { name: "Help" }).click();
  await expect(page.getByRole("heading", { name: "Ask for help" })).toBeVisible();
  await waitForHydration(page);
  await page.getByLabel("Topic").selectOption({ label: "Results" });
  await page.getByLabel("Your question").fill("Short");
  await page.getByRole("button", { name: "Send question" }).click();
  await expect(page.getByRole("alert")).toContainText("at least 10 characters");
  await page.getByLabel("Your question").fill("Why does round 2 show no figures for the Harbour team?");
  await page.getByRole("button", { name: "Send question" }).click();
  await expect(page.getByRole("status")).toContainText("Sent. The answer will come to your email address.");
  await expectAccessible(page);
  await snapshot(page, "help-desktop");

  const [mail] = await delivered(candor.dataDir, (m) => m.includes("To: ops@candor.test"));
  expect(mail, "the question reaches the support inbox").toBeTruthy();
  expect(mail).toContain("Subject: Candor help: Results (Northwind Trading)");
  expect(mail).toContain("Ada Lovelace <ada@northwind.test>, Owner of Northwind Trading");
  expect(mail).toContain("Why does round 2 show no figures for the Harbour team?");
  expect(consoleErrors).toEqual([]);
});
