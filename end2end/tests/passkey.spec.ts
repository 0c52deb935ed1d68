import { test, expect, waitForHydration, expectAccessible, snapshot } from "../fixtures";
import { totp } from "../support";
import { signUpAndVerify, signIn } from "../flows";
import type { CDPSession, Page } from "@playwright/test";

/** Chromium's virtual authenticator: a platform passkey provider that verifies its user. */
async function virtualAuthenticator(page: Page): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

test("signup, passkey enrolment, sign out, then sign in with the passkey alone", async ({ page, candor, consoleErrors }) => {
  const { cdp, authenticatorId } = await virtualAuthenticator(page);
  await signUpAndVerify(page, candor, "hedy@northwind.test");
  await signIn(page, "hedy@northwind.test");

  await expect(page).toHaveURL(/\/setup$/);
  await waitForHydration(page);
  await expectAccessible(page);
  await snapshot(page, "setup-desktop");
  await page.getByRole("button", { name: "Create a passkey" }).click();
  await expect(page.getByRole("heading", { name: "Save your recovery codes" })).toBeVisible();
  await expect(page.getByRole("list", { name: "Recovery codes" }).getByRole("listitem")).toHaveCount(10);
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  expect(credentials).toHaveLength(1);
  expect(credentials[0].isResidentCredential, "a discoverable credential").toBe(true);
  await page.getByRole("link", { name: /I have saved them/ }).click();
  await expect(page.getByRole("heading", { name: "Welcome, Ada Lovelace" })).toBeVisible();

  await waitForHydration(page);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/$/);

  // No email typed: the passkey names the account and counts as both factors.
  await page.goto("/login");
  await waitForHydration(page);
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await expect(page.getByRole("heading", { name: "Welcome, Ada Lovelace" })).toBeVisible();
  const me = await page.request.post("/api/account/me");
  expect(me.status()).toBe(200);

  // After the password, the passkey is the second step too.
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/$/);
  await signIn(page, "hedy@northwind.test");
  await expect(page).toHaveURL(/\/login\/code$/);
  await waitForHydration(page);
  await expectAccessible(page);
  await page.getByRole("button", { name: "Use your passkey" }).click();
  await expect(page.getByRole("heading", { name: "Welcome, Ada Lovelace" })).toBeVisible();
  expect(consoleErrors).toEqual([]);
});

test("factors are added and removed on the sign-in methods page, never the last", async ({ page, candor, browser }) => {
  const { cdp, authenticatorId } = await virtualAuthenticator(page);
  await signUpAndVerify(page, candor, "katherine@northwind.test");
  await signIn(page, "katherine@northwind.test");
  await waitForHydration(page);
  await page.getByRole("button", { name: "Create a passkey" }).click();
  await page.getByRole("link", { name: /I have saved them/ }).click();

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sign-in methods" }).click();
  await expect(page.getByRole("heading", { name: "Sign-in methods" })).toBeVisible();
  await waitForHydration(page);
  const factors = page.getByRole("list", { name: "Second factors" });
  await expect(factors.getByRole("listitem")).toHaveCount(1);
  // The only factor cannot be removed.
  await expect(page.getByRole("button", { name: /^Remove/ })).toHaveCount(0);
  await expect(page.getByText("Add another factor before you remove this one.")).toBeVisible();

  // Add an authenticator app (the passkey was given minutes ago, so no confirmation needed).
  await page.getByRole("link", { name: "Add an authenticator app" }).click();
  await expect(page).toHaveURL(/\/setup\/authenticator$/);
  await waitForHydration(page);
  const secret = (await page.getByTestId("totp-secret").textContent())!.trim();
  await page.getByLabel("Code from the app").fill(totp(secret));
  await page.getByLabel(/^Name/).fill("Work phone");
  await page.getByRole("button", { name: "Confirm" }).click();
  await expect(page).toHaveURL(/\/sign-in-methods$/);
  await waitForHydration(page);
  await expect(factors.getByRole("listitem")).toHaveCount(2);
  await expect(factors.getByText("Work phone")).toBeVisible();
  await expectAccessible(page);
  await snapshot(page, "sign-in-methods-desktop");

  // Remove the passkey: every other session is signed out with it.
  // Unnamed passkeys are named after the browser and system they were made on.
  await expect(factors.getByText(/^Passkey \(Chrome on \w+\)$/)).toBeVisible();
  await page.getByRole("button", { name: /^Remove Passkey \(Chrome on/ }).click();
  await expect(factors.getByRole("listitem")).toHaveCount(1);
  await expect(page.getByText("Your change is saved.")).toBeVisible();
  await expect(page.getByText(/Every other session was signed out \(0\)/)).toBeVisible();

  // The removed passkey no longer signs in, with a message that says why.
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  expect(credentials).toHaveLength(1);
  await page.request.post("/api/account/log_out");
  await page.goto("/login");
  await waitForHydration(page);
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await expect(page.getByRole("alert")).toContainText("not registered with Candor");

  // New recovery codes and a password change, on a phone.
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, "katherine@northwind.test");
  await expect(page).toHaveURL(/\/login\/code$/);
  await waitForHydration(page);
  await page.getByLabel("Code").fill(totp(secret, Date.now() + 30_000));
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();
  await page.goto("/sign-in-methods");
  await waitForHydration(page);
  await page.getByRole("button", { name: "Create new recovery codes" }).click();
  await expect(page.getByRole("list", { name: "Recovery codes" }).getByRole("listitem")).toHaveCount(10);
  await page.getByLabel("Current password").fill("not my password at all");
  await page.getByLabel("New password").fill("lantern harbour gravel symphony");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("alert")).toContainText("is not your current password");
  // Someone else who knows the password is halfway through signing in on another computer.
  const laptop = await browser.newContext({ baseURL: candor.url });
  const other = await laptop.newPage();
  await signIn(other, "katherine@northwind.test");
  await expect(other).toHaveURL(/\/login\/code$/);
  expect((await other.request.post("/api/account/me")).status()).toBe(403);
  await page.getByLabel("Current password").fill("quietly orbiting marmalade kettles");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("Your password was changed. Every other session was signed out.")).toBeVisible();
  // Their session has ended: they must start again, with the new password.
  expect((await other.request.post("/api/account/me")).status()).toBe(401);
  await laptop.close();
  await expectAccessible(page);
  await snapshot(page, "sign-in-methods-phone");
});
