import { test, expect } from "../fixtures";
import { signUpAndVerify, signIn } from "../flows";

// Served over a real connection, a page's own Content-Security-Policy (with the nonce its
// scripts carry) sometimes failed to reach the response, which then went out with the policy
// for non-pages: no script, style or image loaded and the page never hydrated. Every load of a
// page must carry its own policy.
test("every page load carries its own script policy", async ({ page, candor }) => {
  test.setTimeout(120_000);
  await signUpAndVerify(page, candor, "ada@northwind.test");
  await signIn(page, "ada@northwind.test");
  await expect(page).toHaveURL(/\/setup$/);
  for (let i = 0; i < 120; i++) {
    const path = ["/setup", "/login", "/setup/authenticator"][i % 3];
    const response = await page.goto(path);
    const policy = response!.headers()["content-security-policy"] ?? "";
    const nonce = /'nonce-([^']+)'/.exec(policy)?.[1];
    expect(nonce, `${path} (load ${i}) went out with: ${policy}`).toBeTruthy();
    expect(await response!.text()).toContain(`nonce="${nonce}"`);
  }
});
