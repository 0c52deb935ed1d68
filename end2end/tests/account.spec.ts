import { test, expect, waitForHydration, expectAccessible, snapshot, type Candor } from "../fixtures";
import { totp, outbox, delivered, linkIn } from "../support";
import { PASSWORD, signUpAndVerify, signIn, enrol } from "../flows";
import type { Page } from "@playwright/test";

test("signup, email verification, authenticator enrolment, recovery codes, home", async ({ page, candor, consoleErrors }) => {
  // Live strength feedback while typing.
  await page.goto("/signup");
  await waitForHydration(page);
  await expectAccessible(page);
  const password = page.getByLabel("Password", { exact: true });
  await password.fill("password123");
  await expect(page.getByText("Not strong enough yet")).toBeVisible();
  await password.fill(PASSWORD);
  await expect(page.getByText("Strong enough", { exact: true })).toBeVisible();
  await snapshot(page, "signup-desktop");

  await signUpAndVerify(page, candor, "ada@northwind.test");
  await page.getByRole("link", { name: "Sign in" }).last().click();
  await expect(page.getByRole("heading", { name: "Sign in", exact: true })).toBeVisible();
  await waitForHydration(page);
  await page.getByLabel("Email").fill("ada@northwind.test");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Continue" }).click();

  // No second factor yet: enrolment comes first.
  await expect(page).toHaveURL(/\/setup$/);
  await waitForHydration(page);
  await page.getByRole("link", { name: "Use an authenticator app" }).click();
  await expect(page).toHaveURL(/\/setup\/authenticator$/);
  await expect(page.getByRole("img", { name: /QR code/ })).toBeVisible();
  await waitForHydration(page);
  await expectAccessible(page);
  await snapshot(page, "authenticator-desktop");
  const secret = (await page.getByTestId("totp-secret").textContent())!.trim();
  await page.getByLabel("Code from the app").fill("000000" === totp(secret) ? "111111" : "000000");
  await page.getByRole("button", { name: "Confirm" }).click();
  await expect(page.getByRole("alert")).toContainText("not valid");
  await page.getByLabel("Code from the app").fill(totp(secret));
  await page.getByRole("button", { name: "Confirm" }).click();

  await expect(page.getByRole("heading", { name: "Save your recovery codes" })).toBeVisible();
  await expect(page.getByRole("list", { name: "Recovery codes" }).getByRole("listitem")).toHaveCount(10);
  const codes = await page.getByRole("list", { name: "Recovery codes" }).getByRole("listitem").allTextContents();
  expect(codes).toHaveLength(10);
  await expectAccessible(page);
  await snapshot(page, "recovery-codes-desktop");
  await page.getByRole("link", { name: /I have saved them/ }).click();
  await expect(page.getByRole("heading", { name: "Welcome, Ada Lovelace" })).toBeVisible();
  await expect(page.getByText("Northwind Trading")).toBeVisible();
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link", { name: "Sessions" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Sign in" })).toHaveCount(0);

  // Sign out ends the session on the server; signing in again asks for the second factor.
  await waitForHydration(page);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/$/);
  const me = await page.request.post("/api/account/me");
  expect(me.status()).toBe(401);

  await signIn(page, "ada@northwind.test");
  await expect(page).toHaveURL(/\/login\/code$/);
  await waitForHydration(page);
  await page.getByLabel("Code").fill(codes[0]);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Welcome, Ada Lovelace" })).toBeVisible();
  expect(consoleErrors).toEqual([]);
});

test("a session without a second factor reaches only enrolment", async ({ page, candor }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signUpAndVerify(page, candor, "grace@northwind.test");
  await signIn(page, "grace@northwind.test");
  await expect(page).toHaveURL(/\/setup$/);
  await expect(page.getByRole("button", { name: "Create a passkey" })).toBeVisible();
  await expectAccessible(page);
  await snapshot(page, "setup-phone");
  await page.goto("/setup/authenticator");
  await expect(page.getByRole("img", { name: /QR code/ })).toBeVisible();
  await snapshot(page, "authenticator-phone");

  // Every other server function refuses it too: the sign-in methods, sessions, changes.
  for (const endpoint of ["factors/list", "account/sessions", "factors/new_recovery_codes", "account/end_other_sessions"]) {
    const refused = await page.request.post(`/api/${endpoint}`);
    expect(refused.status(), endpoint).toBe(403);
    expect((await refused.json()).code, endpoint).toBe("auth.mfa_required");
  }

  // The server refuses the account's data to this session, whatever the UI shows.
  const me = await page.request.post("/api/account/me");
  expect(me.status()).toBe(403);
  expect((await me.json()).code).toBe("auth.mfa_required");
  await page.goto("/home");
  await expect(page.getByRole("alert")).toContainText("second factor");
  await expect(page.getByText("Welcome")).toHaveCount(0);
  await expectAccessible(page);
});

test("a wrong password gets one message that does not say which part was wrong", async ({ page, candor }) => {
  await signUpAndVerify(page, candor, "alan@northwind.test");
  for (const [email, password] of [["alan@northwind.test", "not the password at all"], ["nobody@northwind.test", PASSWORD]]) {
    await page.goto("/login");
    await waitForHydration(page);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Continue" }).click();
    await expect(page.getByRole("alert")).toHaveText("That email address and password do not match an account.");
  }
  await expectAccessible(page);
  await snapshot(page, "login-error-desktop");
});

test("repeated failed sign-ins block the address and say when to retry", async ({ page }) => {
  await page.goto("/login");
  await waitForHydration(page);
  for (let i = 0; i < 10; i++) {
    await page.getByLabel("Email").fill(`guess${i}@northwind.test`);
    await page.getByLabel("Password").fill("not the right password");
    const refused = page.waitForResponse((response) => response.url().endsWith("/api/account/log_in"));
    await page.getByRole("button", { name: "Continue" }).click();
    expect((await refused).status(), `attempt ${i + 1}`).toBe(401);
    await expect(page.getByRole("alert")).toHaveText("That email address and password do not match an account.");
  }
  await page.getByLabel("Email").fill("anyone@northwind.test");
  await page.getByLabel("Password").fill(PASSWORD);
  const answer = page.waitForResponse((response) => response.url().endsWith("/api/account/log_in"));
  await page.getByRole("button", { name: "Continue" }).click();
  const response = await answer;
  expect(response.status()).toBe(429);
  expect(Number(response.headers()["retry-after"])).toBeGreaterThan(800);
  await expect(page.getByRole("alert")).toHaveText("Too many attempts. Try again in 15 minutes.");
  await expectAccessible(page);
  await snapshot(page, "login-blocked-desktop");
});

test("sessions are listed and one is ended from another browser", async ({ page, candor, browser }) => {
  const codes = await enrol(page, candor, "mary@northwind.test");

  // A second browser (another device) signs in with a recovery code.
  const laptop = await browser.newContext({
    baseURL: candor.url,
    userAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0",
  });
  const other = await laptop.newPage();
  await signIn(other, "mary@northwind.test");
  await expect(other).toHaveURL(/\/login\/code$/);
  await waitForHydration(other);
  await other.getByLabel("Code").fill(codes[1]);
  await other.getByRole("button", { name: "Sign in" }).click();
  await expect(other.getByRole("heading", { name: "Welcome, Ada Lovelace" })).toBeVisible();
  // A device the account had not signed in from before: its owner is told by email.
  const [notice] = await delivered(candor.dataDir, (m) => m.includes("Subject: New sign-in to your Candor account"));
  expect(notice, "a new-sign-in email").toBeTruthy();
  expect(notice).toContain("Device: Firefox on Linux");
  expect(notice).toContain("Network: 127.0.0.0/24");
  expect(linkIn(notice!, "/sessions")).toMatch(/\/sessions$/);

  await page.goto("/sessions");
  await waitForHydration(page);
  const list = page.getByRole("list", { name: "Sessions" });
  await expect(list.getByRole("listitem")).toHaveCount(2);
  await expect(list.getByText("This device")).toHaveCount(1);
  await expect(list.getByText("Firefox on Linux")).toBeVisible();
  await expect(list.getByText(/Network 127\.0\.0\.0\/24/).first()).toBeVisible();
  await expectAccessible(page);
  await snapshot(page, "sessions-desktop");
  await page.getByRole("button", { name: "Sign out Firefox on Linux session" }).click();
  await expect(list.getByRole("listitem")).toHaveCount(1);

  // The other browser is signed out on the server at once.
  await other.goto("/home");
  await expect(other.getByRole("alert")).toHaveText("Please sign in.");
  await laptop.close();
});

test("a forgotten password is reset by email, and signing in still needs the second factor", async ({ page, candor }) => {
  const codes = await enrol(page, candor, "joan@northwind.test");
  await page.goto("/login");
  await waitForHydration(page);
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  // The page's code loads on demand: until its heading shows, "Email" is still the sign-in form's.
  await expect(page.getByRole("heading", { name: "Reset your password" })).toBeVisible();
  await waitForHydration(page);
  await page.getByLabel("Email").fill("joan@northwind.test");
  await page.getByRole("button", { name: "Email me a link" }).click();
  await expect(page.getByRole("heading", { name: "Check your inbox" })).toBeVisible();

  // The link is mailed after the page has answered.
  const resetMail = () => outbox(candor.dataDir).find((m) => m.includes("Subject: Reset your Candor password"));
  await expect.poll(resetMail, { message: "a reset email" }).toBeTruthy();
  const mail = resetMail();
  await page.goto(linkIn(mail!, "/reset-password"));
  await waitForHydration(page);
  await expectAccessible(page);
  await page.getByLabel("New password").fill("lantern harbour gravel symphony");
  await page.getByRole("button", { name: "Save new password" }).click();
  await expect(page.getByRole("heading", { name: "Password changed" })).toBeVisible();

  // The session from before the reset has ended.
  await page.goto("/home");
  await expect(page.getByRole("alert")).toHaveText("Please sign in.");
  await page.goto("/login");
  await waitForHydration(page);
  await page.getByLabel("Email").fill("joan@northwind.test");
  await page.getByLabel("Password").fill("lantern harbour gravel symphony");
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page).toHaveURL(/\/login\/code$/);
  await waitForHydration(page);
  await page.getByLabel("Code").fill(codes[2]);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Welcome, Ada Lovelace" })).toBeVisible();
});
