import { test, expect, waitForHydration, expectAccessible, snapshot } from "../fixtures";
import { enrol } from "../flows";

test("an Owner defines a role, gives it, widens it, and cannot delete it while it is held", async ({ page, candor }) => {
  await enrol(page, candor, "ada@northwind.test");
  await page.getByRole("link", { name: /I have saved them/ }).click();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Roles" }).click();
  await expect(page.getByRole("heading", { name: "Roles", level: 1 })).toBeVisible();
  await waitForHydration(page);
  const matrix = page.getByRole("table");
  // The built-in roles, with what they allow.
  await expect(matrix.getByRole("row", { name: /Manager/ })).toContainText("Granted only");
  await expect(matrix.getByRole("row", { name: /^Owner/ }).getByRole("cell").nth(-2)).toHaveText("1");

  // A team lead: results, only on granted departments.
  await page.getByLabel("Name").fill("Team lead");
  await page.getByLabel("Results").check();
  await expect(page.getByLabel(/Only on the departments granted/)).toBeChecked();
  await page.getByRole("button", { name: "Create role" }).click();
  await expect(page.getByText("Role created.")).toBeVisible();
  const teamLead = matrix.getByRole("row", { name: /Team lead/ });
  await expect(teamLead).toContainText("Granted only");
  await expectAccessible(page);
  await snapshot(page, "roles-desktop");
  await page.setViewportSize({ width: 390, height: 844 });
  await snapshot(page, "roles-phone");
  await page.setViewportSize({ width: 1280, height: 800 });

  // A name already taken, or a built-in one, is refused with a clear message.
  await page.getByLabel("Name").fill("Owner");
  await page.getByLabel("Audit").check();
  await page.getByRole("button", { name: "Create role" }).click();
  await expect(page.getByRole("alert")).toContainText("name: is the name of a built-in role");

  // Give it to someone: the role is offered when inviting, and their page explains it.
  await page.goto("/people");
  await waitForHydration(page);
  await page.getByLabel("Full name").fill("Tina Lead");
  await page.getByLabel("Work email").fill("tina@northwind.test");
  await page.getByLabel("Role").selectOption({ label: "Team lead" });
  await page.getByRole("button", { name: "Send invitation" }).click();
  await expect(page.getByText("Invitation sent.")).toBeVisible();
  await page.getByRole("link", { name: "Tina Lead" }).click();
  await expect(page.getByRole("heading", { name: "Tina Lead" })).toBeVisible();
  await expect(page.getByRole("list", { name: "Access" })).toContainText("Role: Team lead.");
  await expect(page.getByRole("list", { name: "Access" })).toContainText("only for the departments granted");
  await expect(page.getByRole("group", { name: /Departments this/ })).toBeVisible();

  // Widen it: workplace-wide results. Tina's page says so at once.
  await page.goto("/roles");
  await waitForHydration(page);
  await page.getByRole("button", { name: "Edit Team lead" }).click();
  await expect(page.getByRole("heading", { name: "Edit role" })).toBeVisible();
  await page.getByLabel("Name").fill("Insights");
  await page.getByLabel(/Only on the departments granted/).uncheck();
  await page.getByRole("button", { name: "Save role" }).click();
  await expect(page.getByText(/Role saved/)).toBeVisible();
  const insights = matrix.getByRole("row", { name: /Insights/ });
  await expect(insights).not.toContainText("Granted only");
  await expect(insights.getByRole("cell").nth(-2)).toHaveText("1");

  // Held roles cannot be deleted.
  await page.getByRole("button", { name: "Delete Insights" }).click();
  await expect(page.getByRole("alert")).toContainText("1 person holds this role");
  await expect(insights).toBeVisible();

  await page.goto("/people");
  await waitForHydration(page);
  await page.getByRole("link", { name: "Tina Lead" }).click();
  await expect(page.getByRole("list", { name: "Access" })).toContainText("Sees results for the whole workplace.");
  await expect(page.getByRole("group", { name: /Departments this/ })).toHaveCount(0);
});
