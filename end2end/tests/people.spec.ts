import { test, expect, waitForHydration, expectAccessible, snapshot } from "../fixtures";
import { enrol, join } from "../flows";
import { delivered, linkIn, totp } from "../support";
import type { Page } from "@playwright/test";

async function addDepartment(page: Page, name: string, inside = "Top level") {
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Inside").selectOption({ label: inside });
  await page.getByRole("button", { name: "Add department" }).click();
  await expect(page.getByRole("list", { name: "Department tree" }).getByText(name, { exact: true })).toBeVisible();
}

async function invite(page: Page, name: string, email: string, department: string, role: string) {
  await page.getByLabel("Full name").fill(name);
  await page.getByLabel("Work email").fill(email);
  await page.getByLabel("Department", { exact: true }).last().selectOption({ label: department });
  await page.getByLabel("Role").selectOption({ label: role });
  await page.getByRole("button", { name: "Send invitation" }).click();
  await expect(page.getByText("Invitation sent.")).toBeVisible();
  await expect(page.getByRole("link", { name, exact: true })).toBeVisible();
}

test("an HR admin invites people, grants a manager one subtree, and the manager sees exactly it", async ({ page, candor, browser }) => {
  await enrol(page, candor, "ada@northwind.test");
  await page.goto("/departments");
  await waitForHydration(page);
  await addDepartment(page, "Operations");
  await addDepartment(page, "Warehouse", "Operations");
  await addDepartment(page, "Night shift", "— Warehouse");
  await addDepartment(page, "Sales");

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "People" }).click();
  await expect(page.getByRole("heading", { name: "People", level: 1 })).toBeVisible();
  await waitForHydration(page);
  await invite(page, "Mary Manager", "mary@northwind.test", "Operations", "Manager");
  await invite(page, "Eve Night", "eve@northwind.test", "— — Night shift", "Employee");
  await invite(page, "Sam Seller", "sam@northwind.test", "Sales", "Employee");
  await expect(page.getByRole("status").first()).toContainText("4 people");
  // One page: both page buttons are there and disabled.
  await expect(page.getByRole("button", { name: "Previous page" })).toBeDisabled();
  await expect(page.getByRole("button", { name: "Next page", exact: true })).toBeDisabled();
  await expectAccessible(page);
  await snapshot(page, "people-desktop");

  // Filters: a department covers its subtree; search is by name or email.
  await page.getByLabel("Department", { exact: true }).first().selectOption({ label: "Operations" });
  await expect(page.getByRole("row")).toHaveCount(3); // header, Mary, Eve
  await page.getByLabel("Department", { exact: true }).first().selectOption({ label: "All departments" });
  await page.getByLabel("Search").fill("seller");
  await expect(page.getByRole("row")).toHaveCount(2);
  await page.getByLabel("Search").fill("");

  // Grant Mary the Warehouse subtree.
  await page.getByRole("link", { name: "Mary Manager" }).click();
  await expect(page.getByRole("heading", { name: "Mary Manager" })).toBeVisible();
  await waitForHydration(page);
  await page.getByLabel("— Warehouse").check();
  await page.getByRole("button", { name: "Save grants" }).click();
  await expect(page.getByText("Grants saved.")).toBeVisible();
  await expect(page.getByRole("list", { name: "Access" })).toContainText("only for the departments granted");
  await expectAccessible(page);
  await snapshot(page, "person-desktop");

  // Mary accepts her invitation from the email, in her own browser.
  const [mail] = await delivered(candor.dataDir, (m) => m.includes("To: mary@northwind.test") && m.includes("invited"));
  expect(mail, "an invitation email").toBeTruthy();
  expect(mail).toContain("Subject: You are invited to Northwind Trading on Candor");
  const marys = await browser.newContext({ baseURL: candor.url });
  const mary = await marys.newPage();
  await mary.goto(linkIn(mail!, "/invitation"));
  await expect(mary.getByRole("heading", { name: "Join your workplace" })).toBeVisible();
  await waitForHydration(mary);
  await expectAccessible(mary);
  await mary.getByLabel("Choose a password").fill("lantern harbour gravel symphony");
  await mary.getByRole("button", { name: "Join" }).click();
  await expect(mary).toHaveURL(/\/setup$/);
  await mary.goto("/setup/authenticator");
  await waitForHydration(mary);
  const secret = (await mary.getByTestId("totp-secret").textContent())!.trim();
  await mary.getByLabel("Code from the app").fill(totp(secret));
  await mary.getByRole("button", { name: "Confirm" }).click();
  await expect(mary.getByRole("heading", { name: "Save your recovery codes" })).toBeVisible();

  // She sees the people of Warehouse and below — Eve — and nobody else.
  await mary.goto("/people");
  await waitForHydration(mary);
  const rows = mary.getByRole("row");
  await expect(rows).toHaveCount(2);
  await expect(mary.getByRole("link", { name: "Eve Night" })).toBeVisible();
  await expect(mary.getByText("Sam Seller")).toHaveCount(0);
  await expect(mary.getByRole("heading", { name: "Invite someone" })).toHaveCount(0);
  await expect(mary.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Departments" })).toHaveCount(0);

  // Asking the server directly for Sam's record answers not found; managing is forbidden.
  await page.goto("/people");
  await waitForHydration(page);
  await expect(page.getByRole("link", { name: "Mary Manager" })).toBeVisible();
  const samHref = await page.getByRole("link", { name: "Sam Seller" }).getAttribute("href");
  const samId = samHref!.split("/").pop()!;
  const sam = await mary.request.post("/api/people/get", { form: { id: samId } });
  expect(sam.status()).toBe(404);
  const suspend = await mary.request.post("/api/people/set_status", { form: { id: samId, status: "suspended" } });
  expect(suspend.status()).toBe(403);
  await mary.goto(`/people/${samId}`);
  await expect(mary.getByRole("alert")).toContainText("no such person");

  // Mary lost her phone: Ada resets her second factors; Mary is signed out at once, and her
  // next sign-in leads to enrolment again.
  await page.goto(`/people/${(await page.getByRole("link", { name: "Mary Manager" }).getAttribute("href"))!.split("/").pop()}`);
  await waitForHydration(page);
  await page.getByRole("button", { name: "Reset second factors" }).click();
  await expect(page.getByText("Their second factors were reset and their sessions ended.")).toBeVisible();
  await mary.goto("/home");
  await expect(mary.getByRole("alert")).toHaveText("Please sign in.");
  await mary.goto("/login");
  await waitForHydration(mary);
  await mary.getByLabel("Email").fill("mary@northwind.test");
  await mary.getByLabel("Password").fill("lantern harbour gravel symphony");
  await mary.getByRole("button", { name: "Continue" }).click();
  await expect(mary).toHaveURL(/\/setup$/);

  // The link works once.
  const again = await marys.newPage();
  await again.goto(linkIn(mail!, "/invitation"));
  await expect(again.getByRole("heading", { name: "This invitation cannot be used" })).toBeVisible();
  await marys.close();
});

test("an HR admin imports people from a CSV file, all or nothing", async ({ page, candor }) => {
  await enrol(page, candor, "ada@northwind.test");
  await page.goto("/departments");
  await waitForHydration(page);
  await addDepartment(page, "Operations");
  await page.goto("/people");
  await waitForHydration(page);

  const file = (body: string) => ({ name: "people.csv", mimeType: "text/csv", buffer: Buffer.from(body) });
  // A file with problems: every row is checked, nothing is imported.
  await page.getByLabel("CSV file").setInputFiles(
    file("name,email,department,role,start_date\nMary,mary@northwind.test,Operations,Manager,\nBad,not-an-address,Nowhere,,\n"),
  );
  await page.getByRole("button", { name: "Check file" }).click();
  await expect(page.getByText("1 of 2 rows need fixing")).toBeVisible();
  await expect(page.getByRole("table", { name: "Rows in the file" })).toContainText("no active department “Nowhere”");
  await expect(page.getByRole("button", { name: /^Invite \d+ people$/ })).toHaveCount(0);
  await expectAccessible(page);
  await snapshot(page, "people-import-desktop");

  // Fixed: both are invited at once and appear in the list.
  await page.getByLabel("CSV file").setInputFiles(
    file("name,email,department,role,start_date\nMary Manager,mary@northwind.test,Operations,Manager,2026-03-01\nEve Night,eve@northwind.test,,Employee,\n"),
  );
  await page.getByRole("button", { name: "Check file" }).click();
  await expect(page.getByText("2 people ready to invite.")).toBeVisible();
  await page.getByRole("button", { name: "Invite 2 people" }).click();
  await expect(page.getByText("2 people invited; their emails are on their way.")).toBeVisible();
  await expect(page.getByRole("button", { name: "Invite 2 people" })).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Mary Manager" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Eve Night" })).toBeVisible();
  const mails = await delivered(candor.dataDir, (m) => m.includes("Subject: You are invited"), 2);
  expect(mails).toHaveLength(2);

  // A long file is checked whole and shown in part.
  const long = Array.from({ length: 250 }, (_, i) => `Long ${i + 1},long${i + 1}@northwind.test,Operations,Employee,`);
  await page.getByLabel("CSV file").setInputFiles(file(`name,email,department,role,start_date\n${long.join("\n")}\n`));
  await page.getByRole("button", { name: "Check file" }).click();
  await expect(page.getByText("250 people ready to invite.")).toBeVisible();
  await expect(page.getByText("and 50 more rows")).toBeVisible();

  // A larger file: the page shows how far the invitations are while they are made.
  const rows = Array.from({ length: 90 }, (_, i) => `Person ${i + 1},person${i + 1}@northwind.test,Operations,Employee,`);
  await page.getByLabel("CSV file").setInputFiles(file(`name,email,department,role,start_date\n${rows.join("\n")}\n`));
  await page.getByRole("button", { name: "Check file" }).click();
  await expect(page.getByText("90 people ready to invite.")).toBeVisible();
  await page.getByRole("button", { name: "Invite 90 people" }).click();
  await expect(page.getByRole("progressbar", { name: /Inviting \d+ of 90 people/ })).toBeVisible();
  await expectAccessible(page);
  await expect(page.getByText("90 people invited; their emails are on their way.")).toBeVisible();
  await expect(page.getByRole("progressbar")).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Person 1", exact: true })).toBeVisible();
});

test("an HR admin corrects a person's details, and each person corrects their own name", async ({ page, candor, browser }) => {
  await enrol(page, candor, "ada@northwind.test");
  await page.goto("/people");
  await waitForHydration(page);
  await invite(page, "Eve Nigth", "eve@nortwind.test", "No department", "Employee");
  await page.getByRole("link", { name: "Eve Nigth" }).click();
  await expect(page.getByRole("heading", { name: "Eve Nigth" })).toBeVisible();
  await waitForHydration(page);
  // The address had a typo: corrected, the invitation goes to the right one.
  await page.getByLabel("Full name").fill("Eve Night");
  await page.getByLabel("Email address").fill("eve@northwind.test");
  await page.getByLabel("Start date").fill("2024-04-01");
  await page.getByRole("button", { name: "Save details" }).click();
  await expect(page.getByText("Details corrected.")).toBeVisible();
  await expect(page.getByRole("heading", { name: "Eve Night", exact: true })).toBeVisible();
  await expectAccessible(page);
  await snapshot(page, "person-details-desktop");
  const eve = await join(browser, candor.url, candor.dataDir, "eve@northwind.test");

  // An address that belongs to someone else is refused, and nothing changes.
  await page.getByLabel("Email address").fill("ada@northwind.test");
  await page.getByRole("button", { name: "Save details" }).click();
  await expect(page.getByRole("alert")).toContainText("already belongs to someone in your workplace");

  // Eve corrects her own name on her profile.
  await eve.goto("/profile");
  await waitForHydration(eve);
  await eve.getByLabel("Your name").fill("Eve Nightingale");
  await eve.getByRole("button", { name: "Save name" }).click();
  await expect(eve.getByText("Your name is corrected.")).toBeVisible();
  await expect(eve.getByRole("definition").filter({ hasText: "Eve Nightingale" })).toBeVisible();
  await expectAccessible(eve);
  await eve.setViewportSize({ width: 390, height: 844 });
  await snapshot(eve, "profile-phone");
});
