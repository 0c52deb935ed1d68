import { test, expect, waitForHydration, expectAccessible, snapshot } from "../fixtures";
import { enrol } from "../flows";

test("an owner builds a three-level department tree, renames, moves and archives", async ({ page, candor, consoleErrors }) => {
  await enrol(page, candor, "ada@northwind.test");
  await page.getByRole("link", { name: /I have saved them/ }).click();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Departments" }).click();
  await expect(page.getByRole("heading", { name: "Departments", level: 1 })).toBeVisible();
  await waitForHydration(page);
  await expect(page.getByText("No departments yet.")).toBeVisible();

  async function add(name: string, inside?: string) {
    await page.getByLabel("Name", { exact: true }).fill(name);
    await page.getByLabel("Inside").selectOption({ label: inside ?? "Top level" });
    await page.getByRole("button", { name: "Add department" }).click();
    await expect(page.getByRole("list", { name: "Department tree" }).getByText(name, { exact: true })).toBeVisible();
  }
  await add("Operations");
  await add("Sales");
  await add("Warehouse", "Operations");
  await add("Night shift", "— Warehouse");

  const tree = page.getByRole("list", { name: "Department tree" });
  // Three levels: Operations › Warehouse › Night shift.
  const operations = tree.getByRole("listitem").filter({ hasText: "Operations" }).first();
  await expect(operations.getByRole("listitem").filter({ hasText: "Warehouse" }).getByRole("listitem").filter({ hasText: "Night shift" })).toBeVisible();
  await expectAccessible(page);
  await snapshot(page, "departments-desktop");

  // A duplicate name among siblings is refused with a clear message.
  await page.getByLabel("Name", { exact: true }).fill("sales");
  await page.getByLabel("Inside").selectOption({ label: "Top level" });
  await page.getByRole("button", { name: "Add department" }).click();
  await expect(page.getByRole("alert")).toContainText("already a department called");

  // The move dialog never offers the department itself or anything below it.
  await page.getByRole("button", { name: "Move Operations" }).click();
  const dialog = page.getByRole("dialog", { name: "Move Operations" });
  await expect(dialog).toBeVisible();
  const offered = await dialog.getByLabel("New place").locator("option").allTextContents();
  expect(offered).toEqual(["Top level", "Sales"]);
  await expectAccessible(page);
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toHaveCount(0);

  // Move Warehouse (with Night shift) under Sales, and the server refuses a cycle even if asked.
  await page.getByRole("button", { name: "Move Warehouse" }).click();
  await page.getByRole("dialog").getByLabel("New place").selectOption({ label: "Sales" });
  await page.getByRole("dialog").getByRole("button", { name: "Move here" }).click();
  await expect(page.getByRole("dialog")).toHaveCount(0);
  const sales = tree.getByRole("listitem").filter({ hasText: "Sales" }).first();
  await expect(sales.getByText("Night shift")).toBeVisible();

  await page.getByRole("button", { name: "Rename Night shift" }).click();
  await page.getByRole("dialog").getByLabel("New name").fill("Late shift");
  await page.getByRole("dialog").getByRole("button", { name: "Save name" }).click();
  await expect(tree.getByText("Late shift")).toBeVisible();

  // Archiving needs an empty department.
  await page.getByRole("button", { name: "Archive Sales" }).click();
  await expect(page.getByRole("alert")).toContainText("sub-departments first");
  await page.getByRole("button", { name: "Archive Operations" }).click();
  await expect(tree.getByText("Archived")).toBeVisible();
  await expect(page.getByRole("button", { name: "Restore Operations" })).toBeVisible();

  await page.setViewportSize({ width: 390, height: 844 });
  await snapshot(page, "departments-phone");
  expect(consoleErrors).toEqual([]);
});
