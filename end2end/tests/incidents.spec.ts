import { test, expect, waitForHydration, expectAccessible, snapshot } from "../fixtures";
import { enrol } from "../flows";
import { delivered } from "../support";

test("the operator sends a breach notice and the Owner sees it on Home and by email", async ({ page, candor, consoleErrors }) => {
  await enrol(page, candor, "ada@northwind.test");
  await page.goto("/home");
  await waitForHydration(page);
  await expect(page.getByRole("alert", { name: "Personal-data breach notice" })).toHaveCount(0);

  // The operator, on the server: open, verify as a breach (the 24-hour clock), affect, notify.
  const opened = candor.cli(["incident", "open", "--title", "Debug log exposed", "--nature", "A debug log holding invitation emails was readable by an operator tool for two days."]);
  expect(opened.status, opened.stderr).toBe(0);
  const id = opened.stdout.match(/Incident (\S+) opened/)![1];
  const early = candor.cli(["incident", "notify", id, "--impact", "x", "--mitigation", "y", "--contact", "z"]);
  expect(early.status).toBe(1);
  expect(early.stderr).toContain("Mark the incident a personal-data breach");
  const breach = candor.cli(["incident", "breach", id]);
  expect(breach.status, breach.stderr).toBe(0);
  expect(breach.stdout).toContain("Notify the affected workplaces by");
  expect(candor.cli(["incident", "list"]).stdout).toContain("NOTIFY BY");
  expect(candor.cli(["incident", "affect", id, "--all"]).status).toBe(0);
  const sent = candor.cli([
    "incident", "notify", id,
    "--impact", "Names and work addresses of people invited in the last two days may have been read.",
    "--mitigation", "The log was deleted and the tool fixed; no other data was exposed.",
    "--contact", "dpo@candor.example, +44 20 7946 0000",
  ]);
  expect(sent.status, sent.stderr).toBe(0);
  expect(sent.stdout).toContain("Breach notice sent to 1 workplaces (1 emails to Owners queued; `candor serve` delivers them), within the 24 hours");

  const [mail] = await delivered(candor.dataDir, (m) => m.includes("Subject: Candor personal-data breach notice"));
  expect(mail).toContain("To: ada@northwind.test");
  expect(mail).toContain("dpo@candor.example");

  await page.reload();
  await waitForHydration(page);
  const banner = page.getByRole("alert", { name: "Personal-data breach notice" });
  await expect(banner).toContainText("Debug log exposed");
  await expect(banner).toContainText("may have been read");
  await expect(banner).toContainText("The log was deleted");
  await expect(banner).toContainText("dpo@candor.example");
  await expectAccessible(page);
  await snapshot(page, "breach-notice-desktop");
  await page.setViewportSize({ width: 390, height: 844 });
  await snapshot(page, "breach-notice-phone");

  // Closing the incident takes the banner away.
  expect(candor.cli(["incident", "note", id, "--text", "Root cause: a debug flag left on."]).status).toBe(0);
  expect(candor.cli(["incident", "close", id]).status).toBe(0);
  await page.reload();
  await waitForHydration(page);
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();
  await expect(page.getByRole("alert", { name: "Personal-data breach notice" })).toHaveCount(0);
  expect(consoleErrors).toEqual([]);
});
