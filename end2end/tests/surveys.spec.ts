import { test, expect, waitForHydration, expectAccessible, snapshot, watchSplitCode } from "../fixtures";
import { enrol, join as joinByInvitation } from "../flows";
import { delivered } from "../support";
import type { Browser, Page } from "@playwright/test";
import { readFileSync } from "node:fs";

const PHONE = { width: 390, height: 844 };
/** Errors raised in the phones' pages (a failed hydration, say), checked at the end of a test. */
const phoneErrors: string[] = [];

/** Accepts the emailed invitation in a phone-sized browser and enrols an authenticator. */
function join(browser: Browser, baseURL: string, dataDir: string, email: string): Promise<Page> {
  return joinByInvitation(browser, baseURL, dataDir, email, {
    options: { viewport: PHONE, hasTouch: true, isMobile: true },
    watch: (phone) => phone.on("pageerror", (error) => phoneErrors.push(`${email}: ${error.message}`)),
  });
}

/** Answers the open check-in: workload `workload`, eNPS `enps`, and optionally a comment. */
async function answer(phone: Page, workload: number, enps: number, comment?: string) {
  const splitCode = watchSplitCode(phone);
  await phone.goto("/check-ins");
  await waitForHydration(phone);
  await phone.getByRole("link", { name: "Answer “Engineering pulse”" }).click();
  await expect(phone.getByRole("heading", { name: "Engineering pulse" })).toBeVisible();
  await waitForHydration(phone);
  await phone.getByRole("group", { name: /My workload is manageable/ }).getByText(String(workload), { exact: true }).click();
  await phone.getByRole("group", { name: /recommend this workplace/ }).getByText(String(enps), { exact: true }).click();
  await expect(phone.getByText("2 of 2 answered")).toBeVisible();
  if (comment) {
    await phone.getByLabel("Your answer (optional)").fill(comment);
  }
  await phone.getByRole("button", { name: "Send my answers" }).click();
  await expect(phone.getByRole("status")).toContainText("Thank you");
  // Answering runs on the first bundle alone: no admin or manager page's code is fetched.
  expect(splitCode.stop()).toEqual([]);
}

test("a weekly pulse: people answer on their phones, the manager sees results, small teams stay hidden", async ({ page, candor, browser, consoleErrors }) => {
  test.setTimeout(240_000);
  await enrol(page, candor, "ada@northwind.test");
  await page.goto("/departments");
  await waitForHydration(page);
  for (const [name, inside] of [["Engineering", "Top level"], ["Platform", "Engineering"], ["Mobile", "Engineering"]]) {
    await page.getByLabel("Name", { exact: true }).fill(name);
    await page.getByLabel("Inside").selectOption({ label: inside });
    await page.getByRole("button", { name: "Add department" }).click();
    await expect(page.getByRole("list", { name: "Department tree" }).getByText(name, { exact: true })).toBeVisible();
  }

  // Eleven people in one CSV: five in Platform (here since 2016), four in Mobile, two (one a
  // manager) in Engineering.
  const rows = [
    ...[1, 2, 3, 4, 5].map((n) => `Platform Person ${n},platform${n}@northwind.test,Platform,Employee,2016-01-0${n}`),
    ...[1, 2, 3, 4].map((n) => `Mobile Person ${n},mobile${n}@northwind.test,Mobile,Employee,`),
    "Mary Manager,mary@northwind.test,Engineering,Manager,",
    "Lee Lead,lee@northwind.test,Engineering,Employee,",
  ];
  await page.goto("/people");
  await waitForHydration(page);
  await page.getByLabel("CSV file").setInputFiles({
    name: "people.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(["name,email,department,role,start_date", ...rows].join("\n")),
  });
  await page.getByRole("button", { name: "Check file" }).click();
  await page.getByRole("button", { name: "Invite 11 people" }).click();
  await expect(page.getByText("11 people invited; their emails are on their way.")).toBeVisible();
  // Mary manages Engineering and everything below it.
  await page.getByRole("link", { name: "Mary Manager" }).click();
  await waitForHydration(page);
  await page.getByLabel("Engineering", { exact: true }).check();
  await page.getByRole("button", { name: "Save grants" }).click();
  await expect(page.getByText("Grants saved.")).toBeVisible();

  const phones: Record<string, Page> = {};
  for (const email of ["platform1", "platform2", "platform3", "platform4", "platform5", "mobile1", "mobile2", "mobile3", "mobile4", "mary", "lee"]) {
    phones[email] = await join(browser, candor.url, candor.dataDir, `${email}@northwind.test`);
  }

  // The Owner starts a weekly pulse for Engineering from the library.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Surveys" }).click();
  await expect(page.getByRole("heading", { name: "Surveys", level: 1 })).toBeVisible();
  await waitForHydration(page);
  await page.getByLabel("Title").fill("Engineering pulse");
  await page.getByLabel(/My workload is manageable/).check();
  await page.getByLabel(/recommend this workplace/).check();
  await page.getByLabel(/Is there anything else/).check();
  await page.getByLabel("Engineering", { exact: true }).check();
  await page.getByLabel("How often").selectOption({ label: "Every week" });
  await page.getByLabel("Days each round is open").fill("3");
  await page.getByRole("button", { name: "Create survey" }).click();
  await expect(page.getByRole("status")).toContainText("Survey created");
  const surveys = page.getByRole("list", { name: "Surveys" });
  await expect(surveys).toContainText("Every week, open 3 days · Engineering · 3 questions");
  await expect(surveys).toContainText("Round 1 · open · fewer than 5 of 11 answered");
  await expectAccessible(page);
  await snapshot(page, "surveys-desktop");

  // Each person got an email with a link straight to the form.
  const invitations = await delivered(candor.dataDir, (m) => m.includes("Subject: New check-in: Engineering pulse"), 11);
  expect(invitations).toHaveLength(11);
  expect(invitations[0]).toContain("/check-ins/");

  // The form on a phone, before answering.
  await phones.platform1.goto("/home");
  await waitForHydration(phones.platform1);
  await phones.platform1.getByRole("link", { name: /Answer “Engineering pulse”/ }).click();
  await expect(phones.platform1.getByRole("heading", { name: "Engineering pulse" })).toBeVisible();
  await expect(phones.platform1.getByRole("complementary", { name: "Who can see what" })).toContainText("at least 5 people");
  await waitForHydration(phones.platform1);
  await expectAccessible(phones.platform1);
  await snapshot(phones.platform1, "check-in-phone");

  // Before any script has run (a slow phone, JavaScript off) the form still works: the browser
  // posts it (the answers never in the address), the server saves it and thanks the person.
  // Platform 2 answers this way.
  const noScript = await browser.newContext({
    baseURL: candor.url,
    storageState: await phones.platform2.context().storageState(),
    javaScriptEnabled: false,
    viewport: PHONE,
  });
  const unhydrated = await noScript.newPage();
  const checkInPath = invitations[0].match(/\/check-ins\/[0-9a-f-]{36}/)![0];
  await unhydrated.goto(checkInPath);
  await unhydrated.getByRole("group", { name: /My workload is manageable/ }).getByText("4", { exact: true }).click();
  await unhydrated.getByRole("group", { name: /recommend this workplace/ }).getByText("9", { exact: true }).click();
  const sent = unhydrated.waitForRequest((request) => request.method() === "POST");
  await unhydrated.getByRole("button", { name: "Send my answers" }).click();
  const request = await sent;
  expect(new URL(request.url()).search).toBe("");
  expect(request.postData()).toContain("answers");
  await expect(unhydrated).toHaveURL(/\/check-ins\?sent=1$/);
  await expect(unhydrated.getByRole("status")).toContainText("Your answers are saved");
  await expect(unhydrated.getByRole("link", { name: /Answer “Engineering pulse”/ })).toHaveCount(0);
  await snapshot(unhydrated, "check-in-sent-without-script-phone");
  // Opened again, the form is not offered any more.
  await unhydrated.goto(checkInPath);
  await expect(unhydrated.getByText("This check-in is not open for you")).toBeVisible();
  await noScript.close();

  // Everyone answers on a phone: Platform 4s, Mobile 2s, Engineering 3s.
  await answer(phones.platform1, 4, 9, "Pairing on Fridays has been great");
  await expect(phones.platform1.getByRole("status")).toContainText("If someone replies to your comments");
  await expectAccessible(phones.platform1);
  for (const name of ["platform3", "platform4", "platform5"]) await answer(phones[name], 4, 9);

  // Halfway, the Owner reminds the six who have not answered; a second reminder must wait.
  await page.reload();
  await waitForHydration(page);
  await page.getByRole("button", { name: "Remind round 1" }).click();
  await expect(page.getByRole("status")).toContainText("Reminder emailed to everyone asked who has not answered yet.");
  const reminders = await delivered(candor.dataDir, (m) => m.includes("Subject: Reminder: Engineering pulse closes soon"), 6);
  expect(reminders).toHaveLength(6);
  expect(reminders.some((m) => m.includes("To: platform1@northwind.test"))).toBe(false);
  await page.getByRole("button", { name: "Remind round 1" }).click();
  await expect(page.getByRole("alert")).toContainText("less than 12 hours ago");
  for (const name of ["mobile1", "mobile2", "mobile3", "mobile4"]) await answer(phones[name], 2, 4);
  await answer(phones.mary, 3, 7);
  await answer(phones.lee, 3, 8);

  await phones.platform1.goto("/check-ins");
  await expect(phones.platform1.getByText("Nothing to answer right now.")).toBeVisible();
  // Their participation history says that they answered, never what.
  await phones.platform1.getByText("Your participation").click();
  await expect(phones.platform1.getByRole("list", { name: "Your participation" })).toContainText("Engineering pulse — round 1");
  await expect(phones.platform1.getByRole("list", { name: "Your participation" })).toContainText("Answered");

  // A second submission of the same round (another tab) is refused.
  const roundId = invitations[0].match(/\/check-ins\/([0-9a-f-]{36})/)![1];
  const again = await phones.lee.request.post("/api/check_ins/submit", { data: { round: roundId, answers: [] } });
  expect(again.status()).toBe(409);

  // While the round is open, Mary sees participation only, in steps of five: never a figure.
  const mary = phones.mary;
  await mary.setViewportSize({ width: 1280, height: 900 });
  const resultsCode = watchSplitCode(mary);
  await mary.goto("/results");
  await waitForHydration(mary);
  // A manager's pages bring their own code, fetched when first opened.
  expect(resultsCode.stop().some((path) => path.includes("results_list_route"))).toBe(true);
  await mary.getByRole("link", { name: "Results of Engineering pulse round 1" }).click();
  await expect(mary.getByRole("heading", { name: "Results appear when this round closes" })).toBeVisible();
  const participation = mary.getByRole("region", { name: "Participation by team" });
  await expect(participation.getByRole("row", { name: /Engineering/ })).toContainText(/at least 10/i);
  await expect(participation.getByRole("row", { name: /Mobile/ })).toContainText("fewer than 5");
  await expect(mary.getByRole("region", { name: "Results by team" })).toHaveCount(0);
  await expect(mary.getByText("Pairing on Fridays has been great")).toHaveCount(0);
  await expectAccessible(mary);
  await snapshot(mary, "results-open-desktop");

  // The Owner closes the round early: its results are released once, now.
  await page.reload();
  await waitForHydration(page);
  await page.getByRole("button", { name: "Close round 1 now" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Round closed: its results are released." })).toBeVisible();
  await expect(surveys).toContainText("Round 1 · closed · 11 of 11 answered");

  // Mary sees Engineering; Platform has enough answers; Mobile's four stay hidden.
  await mary.reload();
  await waitForHydration(mary);
  const byTeam = mary.getByRole("region", { name: "Results by team" });
  await expect(byTeam.getByRole("row", { name: /Engineering/ })).toContainText("11 of 11");
  await expect(byTeam.getByRole("row", { name: /Platform/ })).toContainText("5 of 5");
  await expect(byTeam.getByRole("row", { name: /Platform/ })).toContainText("4.0");
  await expect(byTeam.getByRole("row", { name: /Mobile/ })).toContainText("Not enough responses");
  const comments = mary.getByRole("list", { name: "Comments" });
  await expect(comments).toContainText("Pairing on Fridays has been great");
  // The comment stands under the smallest team large enough: Platform, with its five answers.
  await expect(comments).toContainText("· Platform");
  // Filters narrow the list on the server, through the address.
  await mary.getByLabel("Comments from").selectOption({ label: "Platform (1)" });
  await mary.getByRole("button", { name: "Show comments" }).click();
  await expect(mary).toHaveURL(/team=/);
  await expect(mary.getByRole("status").filter({ hasText: "Comments 1–1 of 1 · page 1 of 1" })).toBeVisible();
  await expect(comments).toContainText("Pairing on Fridays has been great");
  await expect(mary.getByText("The trend appears from the second round on.")).toBeVisible();
  await expectAccessible(mary);
  await snapshot(mary, "results-desktop");
  await mary.setViewportSize(PHONE);
  await snapshot(mary, "results-phone");
  await mary.setViewportSize({ width: 1280, height: 900 });

  // The CSV holds what the page shows: Mobile only as "not enough responses".
  const downloading = mary.waitForEvent("download");
  await mary.getByRole("button", { name: "Download CSV" }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe("results-round-1.csv");
  const csv = readFileSync((await download.path())!, "utf8");
  expect(csv).toContain("Platform,2,5,5,My workload is manageable.,scale,4.00");
  expect(csv).toMatch(/Mobile,2,,,,,,,not enough responses/);
  expect(csv).not.toContain("Pairing on Fridays");
  // Mary sees Engineering by time here (Platform's five long-serving people, the six without a
  // start date); Platform alone is all in one band, so it adds no rows; the workplace is not hers.
  expect(csv).toContain('"Engineering, 5 years or more",tenure,5,5,My workload is manageable.,scale,4.00');
  expect(csv).toContain('"Engineering, Start date not recorded",tenure,6,6,');
  expect(csv).not.toContain("Whole workplace");
  expect(csv).not.toContain('"Platform, ');
  const hersByTenure = mary.getByRole("region", { name: "Results by time at the workplace" });
  await expect(hersByTenure.getByRole("rowgroup", { name: "Engineering" }).getByRole("row", { name: /5 years or more/ })).toContainText("5 of 5");
  await expect(hersByTenure.getByRole("rowgroup", { name: "Whole workplace" })).toHaveCount(0);

  // The Owner sees the whole workplace by time here too.
  await page.goto(`/results/${roundId}`);
  await waitForHydration(page);
  const byTenure = page.getByRole("region", { name: "Results by time at the workplace" });
  await expect(byTenure.getByRole("rowgroup", { name: "Whole workplace" }).getByRole("row", { name: /Start date not recorded/ })).toContainText("6 of 6");
  await expectAccessible(page);
  await snapshot(page, "results-tenure-desktop");
  await page.goto("/surveys");
  await waitForHydration(page);

  // Mary replies to the anonymous comment; its author finds the reply and answers back.
  await mary.locator("summary", { hasText: "Reply to the author" }).click();
  await mary.getByLabel("Reply to the author (they stay anonymous)").fill("Thanks! Shall we keep the Friday slot?");
  await mary.getByRole("button", { name: "Send reply" }).click();
  await expect(comments.getByRole("list", { name: "Conversation", exact: true })).toContainText("Shall we keep the Friday slot?");
  const author = phones.platform1;
  // Which files a phone fetches must not tell who holds comment secrets: the author's
  // conversation and a non-author's empty inbox both run on the first bundle alone.
  const authorCode = watchSplitCode(author);
  await author.goto("/check-ins");
  await waitForHydration(author);
  const replies = author.getByRole("region", { name: "Replies to your comments" });
  await expect(replies).toContainText("You wrote: Pairing on Fridays has been great");
  await expect(replies).toContainText("Shall we keep the Friday slot?");
  await expectAccessible(author);
  await snapshot(author, "replies-phone");
  await author.getByLabel("Answer back (anonymously)").fill("Yes please, it helps a lot.");
  await author.getByRole("button", { name: "Send answer" }).click();
  await expect(replies.getByRole("list", { name: "Conversation", exact: true })).toContainText("Yes please, it helps a lot.");
  expect(authorCode.stop()).toEqual([]);
  // Someone else on their own phone has no conversations.
  const otherCode = watchSplitCode(phones.lee);
  await phones.lee.goto("/check-ins");
  await waitForHydration(phones.lee);
  await expect(phones.lee.getByText("Nothing to answer right now.")).toBeVisible();
  await expect(phones.lee.getByRole("region", { name: "Replies to your comments" })).toHaveCount(0);
  expect(otherCode.stop()).toEqual([]);
  // Mary sees it from tomorrow, not the moment it was sent (which could be set beside who
  // was online then).
  await mary.reload();
  await waitForHydration(mary);
  await expect(mary.getByRole("list", { name: "Conversation", exact: true })).toContainText("Shall we keep the Friday slot?");
  await expect(mary.getByText("Yes please, it helps a lot.")).toHaveCount(0);
  // The Owner's pages (surveys, reminders) and everyone's phones raised no errors.
  expect(consoleErrors).toEqual([]);
  expect(phoneErrors).toEqual([]);
});

test("a pulse with the workplace's own questions, answered by everyone asked", async ({ page, candor, consoleErrors }) => {
  await enrol(page, candor, "ada@northwind.test");
  await page.goto("/surveys");
  await waitForHydration(page);
  await page.getByLabel("Title").fill("Office move");
  await page.getByLabel(/How have you been feeling at work/).check();
  // A choice question needs two options: the form says so before sending anything.
  await page.getByLabel("Question", { exact: true }).fill("Which office day suits you best?");
  await page.getByLabel("Answered with").selectOption({ label: "One of several options" });
  await page.getByLabel("Options, one per line").fill("Tuesday");
  await page.getByRole("button", { name: "Add question" }).click();
  await expect(page.getByRole("alert")).toContainText("at least two options");
  await page.getByLabel("Options, one per line").fill("Tuesday\nWednesday\nThursday");
  await page.getByRole("button", { name: "Add question" }).click();
  await page.getByLabel("Question", { exact: true }).fill("The new desks are comfortable.");
  await page.getByLabel("Answered with").selectOption({ label: "A scale from 1 to 5" });
  await page.getByRole("button", { name: "Add question" }).click();
  const own = page.getByRole("list", { name: "Your own questions" });
  await expect(own).toContainText("One of: Tuesday, Wednesday, Thursday");
  await expect(own).toContainText("1 (Strongly disagree) to 5 (Strongly agree)");
  await expectAccessible(page);
  await snapshot(page, "surveys-own-questions");
  await page.getByLabel("How often").selectOption({ label: "Once" });
  await page.getByRole("button", { name: "Create survey" }).click();
  await expect(page.getByRole("status")).toContainText("Survey created");
  await expect(page.getByRole("list", { name: "Surveys" })).toContainText("Everyone · 3 questions");

  // The Owner is in the workplace, so is asked too, and answers the own questions.
  await page.goto("/check-ins");
  await waitForHydration(page);
  await page.getByRole("link", { name: "Answer “Office move”" }).click();
  await waitForHydration(page);
  await page.getByRole("group", { name: /How have you been feeling/ }).getByText("4", { exact: true }).click();
  await page.getByRole("group", { name: /Which office day/ }).getByText("Wednesday", { exact: true }).click();
  await page.getByRole("group", { name: /new desks are comfortable/ }).getByText("5", { exact: true }).click();
  await expect(page.getByText("3 of 3 answered")).toBeVisible();
  await page.getByRole("button", { name: "Send my answers" }).click();
  await expect(page.getByRole("status")).toContainText("Thank you");
  // The check-ins page (participation, replies) hydrates without errors, before and after.
  await page.goto("/check-ins");
  await waitForHydration(page);
  await page.getByText("Your participation").click();
  await expect(page.getByRole("list", { name: "Your participation" })).toContainText("Office move — round 1");
  expect(consoleErrors).toEqual([]);
});
