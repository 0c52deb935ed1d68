// The employee's path from an emailed link to "Thank you", measured in Chromium: bytes on the
// wire (HTML, CSS, JS, WASM, the answer itself; headers included), first contentful paint and
// the moment the page is hydrated, on a throttled phone profile (4x slower CPU, 1.6 Mbit/s down,
// 750 kbit/s up, 150 ms round trip). The form is answerable from first paint: it posts without
// its script. Prints one JSON line per case. Inputs: CANDOR_BENCH_URL, CANDOR_BENCH_COOKIES
// (two signed-in employees' session cookies, name=value, one per line: one answers with
// JavaScript on, the other with it off) and CANDOR_BENCH_ROUND, open for both.
import { test, expect, type Page, type CDPSession } from "@playwright/test";

const url = process.env.CANDOR_BENCH_URL!;
const cookies = process.env.CANDOR_BENCH_COOKIES!.trim().split("\n");
const round = process.env.CANDOR_BENCH_ROUND!;

async function throttled(page: Page): Promise<{ cdp: CDPSession; transferred: () => number }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 150,
    downloadThroughput: (1.6 * 1024 * 1024) / 8,
    uploadThroughput: (750 * 1024) / 8,
  });
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
  let bytes = 0;
  cdp.on("Network.loadingFinished", (event) => {
    bytes += event.encodedDataLength;
  });
  return { cdp, transferred: () => bytes };
}

for (const javaScript of [true, false]) {
  test(`employee path, JavaScript ${javaScript ? "on" : "off"}`, async ({ browser }) => {
    // The session rides on every request as a header: a `__Host-` cookie cannot be planted
    // for a plain-HTTP loopback address.
    const context = await browser.newContext({
      baseURL: url,
      javaScriptEnabled: javaScript,
      viewport: { width: 390, height: 844 },
      isMobile: true,
      extraHTTPHeaders: { Cookie: cookies[javaScript ? 0 : 1] },
    });
    const page = await context.newPage();
    const { transferred } = await throttled(page);
    const started = Date.now();
    await page.goto(`/check-ins/${round}`);
    await expect(page.getByRole("button", { name: "Send my answers" })).toBeVisible();
    const loaded = Date.now() - started;
    let firstPaint: number | null = null;
    let hydrated: number | null = null;
    if (javaScript) {
      await page.waitForSelector("html[data-hydrated]", { timeout: 120_000 });
      hydrated = Date.now() - started;
      firstPaint = await page.evaluate(
        () => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? null,
      );
    }
    const beforeAnswering = transferred();
    for (const group of await page.getByRole("group").all()) {
      const choice = group.locator("label").first();
      if ((await group.locator("input[type=radio]").count()) > 0) await choice.click();
    }
    await page.getByRole("button", { name: "Send my answers" }).click();
    await expect(page.getByRole("status")).toContainText(javaScript ? "Thank you" : "Your answers are saved");
    await page.waitForLoadState("networkidle");
    console.log(
      JSON.stringify({
        case: `employee path, JavaScript ${javaScript ? "on" : "off"}`,
        transferredBytes: transferred(),
        pageBytes: beforeAnswering,
        formVisibleMs: loaded,
        firstContentfulPaintMs: firstPaint === null ? null : Math.round(firstPaint),
        hydratedMs: hydrated,
      }),
    );
    await context.close();
  });
}

// A page whose code is split out of the first bundle, opened in a fresh browser on the same
// profile: the first bundle plus that page's own files, preloaded by the server-rendered HTML.
test("a split-out page (Home), first visit", async ({ browser }) => {
  const context = await browser.newContext({
    baseURL: url,
    viewport: { width: 390, height: 844 },
    isMobile: true,
    extraHTTPHeaders: { Cookie: cookies[0] },
  });
  const page = await context.newPage();
  const { transferred } = await throttled(page);
  let splitFiles = 0;
  page.on("request", (request) => {
    if (/\/pkg\/(split|chunk)_[^/]*\.wasm$/.test(new URL(request.url()).pathname)) splitFiles += 1;
  });
  const started = Date.now();
  await page.goto("/home");
  await page.waitForSelector("html[data-hydrated]", { timeout: 120_000 });
  const hydrated = Date.now() - started;
  await page.waitForLoadState("networkidle");
  const firstPaint = await page.evaluate(
    () => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? null,
  );
  console.log(
    JSON.stringify({
      case: "split-out page (Home), first visit",
      transferredBytes: transferred(),
      splitFiles,
      firstContentfulPaintMs: firstPaint === null ? null : Math.round(firstPaint),
      hydratedMs: hydrated,
    }),
  );
  await context.close();
});
