// The dashboard in a real browser: headless Chromium from the system's
// packages (/usr/bin/chromium; .ci/run installs it), driven by playwright-core.
// It loads the page from a running `broker serve`, sees a message written by
// the CLI in another process appear without a reload, shows hostile bodies as
// text without running them, moves and deletes through the confirmations, asks
// for the token when the server wants one, and leaves a screenshot in
// test/artifacts/.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { cli, sqlitePlace, startServe } from "./_server.ts";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = resolve(import.meta.dir, "../artifacts");
const TIMEOUT = 60_000;
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.log(`skipping the dashboard browser test: ${CHROMIUM} is missing (apt-get install -y chromium)`);

describe.skipIf(!hasChromium)("dashboard in headless Chromium", () => {
  const place = sqlitePlace();
  const profile = mkdtempSync(join(tmpdir(), "sb-chromium-"));
  let browser: BrowserContext;

  beforeAll(async () => {
    const { chromium } = await import("playwright-core");
    // A persistent context on a fresh directory: that is how Playwright takes a --user-data-dir.
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  }, TIMEOUT);

  afterAll(async () => {
    await browser?.close();
    rmSync(profile, { recursive: true, force: true });
    await place[Symbol.asyncDispose]();
  });

  /** A new tab that records script errors, dialogs answered by `answers` (in order), and navigations. */
  async function open(url: string, answers: Array<string | boolean> = []) {
    const page = await browser.newPage();
    const errors: string[] = [];
    const dialogs: string[] = [];
    const requests: string[] = [];
    let navigations = 0;
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("request", (r) => requests.push(r.url()));
    page.on("framenavigated", (f) => f === page.mainFrame() && navigations++);
    page.on("dialog", async (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      const answer = answers.shift();
      if (answer === false || answer === undefined) await d.dismiss();
      else await d.accept(typeof answer === "string" ? answer : undefined);
    });
    await page.goto(url);
    await page.locator("#status[data-state=live]").waitFor();
    return { page, errors, dialogs, requests, navigations: () => navigations };
  }

  /** The few page globals the checks use (this project's types have no DOM library). */
  interface PageGlobals {
    document: {
      querySelector(selector: string): { textContent: string | null; getAttribute(name: string): string | null } | null;
      querySelectorAll(selector: string): { length: number };
    };
    sessionStorage: { getItem(key: string): string | null };
    __pwned?: string;
  }
  // Functions, not strings: the page's Content-Security-Policy forbids evaluating strings.
  const rows = (page: Page, n: number) =>
    page.waitForFunction(
      (n) => (globalThis as unknown as PageGlobals).document.querySelectorAll("#messages tbody tr").length === n,
      n,
    );
  const row = (page: Page, queue: string) => page.locator(`#queues tbody tr[data-queue="${queue}"]`);

  test(
    "a message written by the CLI appears live; hostile bodies stay text; move and delete ask first",
    async () => {
      expect((await cli(place, ["write", "jobs", "already there"])).exitCode).toBe(0);
      await using server = await startServe(place);
      const { page, errors, dialogs, requests, navigations } = await open(server.url, ["archive", true, false, true]);
      await expect(row(page, "jobs").locator("td").nth(1).textContent()).resolves.toBe("1");

      // Written by another process after the page loaded: it shows up without a reload.
      expect((await cli(place, ["write", "live", "hello from the CLI"])).exitCode).toBe(0);
      await row(page, "live").waitFor();
      expect(await row(page, "live").locator("td").nth(1).textContent()).toBe("1");
      expect((await cli(place, ["write", "live", "second"])).exitCode).toBe(0);
      await page.waitForFunction(
        () =>
          (globalThis as unknown as PageGlobals).document.querySelector('#queues tr[data-queue="live"] td:nth-child(2)')
            ?.textContent === "2",
      );
      expect(navigations()).toBe(1);

      // Bodies that would run as markup are shown as text.
      const hostile = [
        "<script>window.__pwned = 'script'</script>",
        `"><img src=x onerror="window.__pwned = 'img'">`,
        "<b>bold</b> & <i>more</i>",
      ];
      for (const body of hostile) expect((await cli(place, ["write", "xss", body])).exitCode).toBe(0);
      await row(page, "xss").waitFor();
      await row(page, "xss").getByRole("button", { name: "Browse" }).click();
      await rows(page, 3);
      expect(await page.locator("#messages td.body pre").allTextContents()).toEqual(hostile);
      expect(await page.locator("#messages img, #messages script, #messages b, #messages i").count()).toBe(0);
      expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).__pwned)).toBeUndefined();
      expect(requests.filter((u) => u.endsWith("/x"))).toEqual([]);

      // Move one message: the destination is asked for, then confirmed.
      const ids = await page.locator("#messages td.id").allTextContents();
      expect(ids.every((id) => /^\d{19}$/.test(id))).toBe(true);
      await page.locator(`#messages tr[data-id="${ids[0]}"]`).getByRole("button", { name: "Move…" }).click();
      await rows(page, 2);
      expect((await cli(place, ["peek", "archive"])).stdout).toBe(`${hostile[0]}\n`);
      // Delete: dismissing the confirmation keeps the message; accepting removes it.
      const target = page.locator(`#messages tr[data-id="${ids[1]}"]`).getByRole("button", { name: "Delete…" });
      await target.click();
      expect(await page.locator("#messages tbody tr").count()).toBe(2);
      await target.click();
      await rows(page, 1);
      expect((await cli(place, ["peek", "--all", "xss"])).stdout).toBe(`${hostile[2]}\n`);
      expect(dialogs).toEqual([
        "prompt: Move message " + ids[0] + " from 'xss' to which queue?",
        `confirm: Move message ${ids[0]} from 'xss' to 'archive'?`,
        `confirm: Delete message ${ids[1]} from 'xss'?`,
        `confirm: Delete message ${ids[1]} from 'xss'?`,
      ]);

      // The chart samples every 2 s: a depth line is drawn for each queue.
      await page.waitForFunction(
        () =>
          ((globalThis as unknown as PageGlobals).document
            .querySelector('#queues tr[data-queue="live"] polyline')
            ?.getAttribute("points") ?? "") !== "",
      );
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, "dashboard.png"), fullPage: true });
      expect(errors).toEqual([]);
      await page.close();
    },
    TIMEOUT,
  );

  test(
    "with --token the page asks for the token once and keeps it in the tab, not in the URL",
    async () => {
      await using server = await startServe(place, ["--token", "tab-secret"]);
      const { page, errors, dialogs, requests } = await open(server.url, ["tab-secret"]);
      expect(dialogs).toEqual(["prompt: Access token for this broker (kept in this tab only):"]);
      await row(page, "jobs").waitFor();
      expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).sessionStorage.getItem("broker-token"))).toBe(
        "tab-secret",
      );
      expect(requests.some((u) => u.includes("tab-secret"))).toBe(false);
      expect(page.url()).not.toContain("tab-secret");
      expect(errors).toEqual([]);
      await page.close();
    },
    TIMEOUT,
  );

  test(
    "rename asks for the new name and confirms; the dump downloads with the token in a header, as broker dump writes it",
    async () => {
      expect((await cli(place, ["write", "to-rename", "r1"])).exitCode).toBe(0);
      expect((await cli(place, ["write", "to-rename", "r2"])).exitCode).toBe(0);
      await using server = await startServe(place, ["--token", "dump-secret"]);
      const { page, errors, dialogs } = await open(server.url, ["dump-secret", "renamed", false, "renamed", true]);
      const dumpAuth: Array<string | undefined> = [];
      page.on("request", (r) => {
        if (new URL(r.url()).pathname === "/api/dump") dumpAuth.push(r.headers().authorization);
      });
      await row(page, "to-rename").getByRole("button", { name: "Browse" }).click();
      await rows(page, 2);
      // Dismissing the confirmation renames nothing; accepting renames and opens the new name.
      await page.locator("#rename").click();
      await page.locator("#rename").click();
      await page.waitForFunction(
        () => (globalThis as unknown as PageGlobals).document.querySelector("#browser-queue")?.textContent === "renamed",
      );
      await rows(page, 2);
      expect((await cli(place, ["peek", "--all", "renamed"])).stdout).toBe("r1\nr2\n");
      expect((await cli(place, ["peek", "to-rename"])).exitCode).toBe(2);
      expect(dialogs.slice(1)).toEqual([
        "prompt: Rename 'to-rename' (pending and claimed messages) to which new queue?",
        "confirm: Rename 'to-rename' to 'renamed'? Its aliases follow it.",
        "prompt: Rename 'to-rename' (pending and claimed messages) to which new queue?",
        "confirm: Rename 'to-rename' to 'renamed'? Its aliases follow it.",
      ]);

      const [download] = await Promise.all([page.waitForEvent("download"), page.locator("#dump").click()]);
      expect(download.suggestedFilename()).toMatch(/^broker-dump-.*\.ndjson$/);
      const saved = await Bun.file((await download.path())!).text();
      expect(saved).toBe((await cli(place, ["dump"])).stdout);
      expect(saved).toContain('"queue": "renamed"');
      expect(dumpAuth).toEqual(["Bearer dump-secret"]);
      expect(download.url()).not.toContain("dump-secret");
      expect(errors).toEqual([]);
      await page.close();
    },
    TIMEOUT,
  );
});
