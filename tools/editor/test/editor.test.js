// Browser tests of the built bundle (templates/static/editor.js): serves test/*.html and the
// bundle from a temporary folder with `python3 -m http.server` and drives Chromium through
// playwright-core. Run with `npm test` in tools/editor after `npm run build`.

import { test, before, after, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, copyFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer } from "node:net";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const bundle = join(here, "..", "..", "..", "templates", "static", "editor.js");
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";

let dir, server, base, browser, page, problems;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitForServer(url) {
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch (e) {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the test server did not answer at ${url}`);
}

before(async () => {
  assert.ok(existsSync(bundle), `no bundle at ${bundle}: run npm run build first`);
  dir = mkdtempSync(join(tmpdir(), "editor-test-"));
  for (const f of ["page.html", "plain.html", "echo.html"]) copyFileSync(join(here, f), join(dir, f));
  copyFileSync(bundle, join(dir, "editor.js"));
  const port = await freePort();
  server = spawn("python3", ["-m", "http.server", String(port), "--bind", "127.0.0.1"], {
    cwd: dir,
    stdio: "ignore",
  });
  base = `http://127.0.0.1:${port}`;
  await waitForServer(`${base}/echo.html`);
  browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  problems = [];
  page = await browser.newPage();
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
});

afterEach(async () => {
  await page.close();
});

async function open(name = "page.html") {
  await page.goto(`${base}/${name}`);
  await page.waitForSelector(".cm-editor .cm-content");
}

// Replaces the editor's text by typing it.
async function typeSql(text) {
  await page.click(".cm-content");
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await page.keyboard.type(text);
}

const textareaValue = () => page.$eval("#sql-editor", (t) => t.value);

async function completionLabels() {
  await page.keyboard.press("Control+Space");
  await page.waitForSelector(".cm-tooltip-autocomplete li");
  return page.$$eval(".cm-tooltip-autocomplete li .cm-completionLabel", (els) => els.map((e) => e.textContent));
}

test("the editor replaces the textarea, which stays in the form", async () => {
  await open();
  const info = await page.evaluate(() => {
    const ta = document.getElementById("sql-editor");
    const editor = ta.nextElementSibling;
    const content = document.querySelector(".cm-content");
    const button = document.querySelector("form.sql button.format-sql");
    return {
      hidden: ta.style.display,
      inForm: !!ta.form && ta.form.classList.contains("sql"),
      editorNext: editor && editor.classList.contains("cm-editor"),
      text: content.textContent,
      label: content.getAttribute("aria-label"),
      buttonType: button && button.type,
      buttonAfterSubmit: button && button.previousElementSibling && button.previousElementSibling.type === "submit",
      minHeight: parseFloat(getComputedStyle(content).minHeight),
      fontSize: parseFloat(getComputedStyle(content).fontSize),
    };
  });
  assert.equal(info.hidden, "none");
  assert.ok(info.inForm);
  assert.ok(info.editorNext);
  assert.equal(info.text, "select * from facetable");
  assert.equal(info.label, "SQL query");
  assert.equal(info.buttonType, "button");
  assert.ok(info.buttonAfterSubmit);
  assert.ok(info.minHeight >= 5 * info.fontSize, `min-height ${info.minHeight}px for 6em`);
  assert.ok(await page.isVisible(".cm-editor"));
  assert.deepEqual(problems, []);
});

test("completion offers tables, then a table's columns, and keywords", async () => {
  await open();
  await typeSql("select * from fac");
  assert.ok((await completionLabels()).includes("facetable"));
  await page.keyboard.press("Escape");

  await typeSql("select facetable.");
  const columns = await completionLabels();
  for (const c of ["pk", "state", "city_id"]) assert.ok(columns.includes(c), `${c} in ${columns}`);
  await page.keyboard.press("Escape");

  await typeSql("sel");
  assert.ok((await completionLabels()).includes("select"));
  await page.keyboard.press("Escape");

  await typeSql("select * from dotted");
  assert.ok((await completionLabels()).includes("dotted.name"));
  await page.keyboard.press("Escape");
  assert.deepEqual(problems, []);
});

test("a name that needs quoting is inserted quoted", async () => {
  await open();
  await typeSql("select * from my");
  assert.ok((await completionLabels()).includes("my table"));
  // CodeMirror ignores Enter for a moment after the list opens (its interactionDelay).
  await page.waitForTimeout(200);
  await page.keyboard.press("Enter");
  const value = await textareaValue();
  assert.match(value, /^select \* from [`"]my table[`"]$/);
  assert.deepEqual(problems, []);
});

test("every change reaches the textarea", async () => {
  await open();
  await typeSql("select 42");
  assert.equal(await textareaValue(), "select 42");
  await page.keyboard.press("Control+Z");
  assert.notEqual(await textareaValue(), "select 42");
});

test("Ctrl-Enter submits the form with the editor's text", async () => {
  await open();
  await typeSql("select pk from facetable where state = 'CA'");
  await Promise.all([page.waitForURL(/echo\.html\?/), page.keyboard.press("Control+Enter")]);
  const params = new URL(page.url()).searchParams;
  assert.equal(params.get("sql"), "select pk from facetable where state = 'CA'");
  assert.deepEqual(problems, []);
});

test("the Run SQL button submits the editor's text", async () => {
  await open();
  await typeSql("select 7");
  await Promise.all([page.waitForURL(/echo\.html\?/), page.click('input[type="submit"]')]);
  assert.equal(new URL(page.url()).searchParams.get("sql"), "select 7");
});

test("Format SQL reformats the text in place, undoably", async () => {
  await open();
  await typeSql("select a,b from t where x=1");
  await page.click("button.format-sql");
  const formatted = await textareaValue();
  assert.ok(formatted.split("\n").length > 3, formatted);
  assert.match(formatted, /^select\n\s+a,\n\s+b\nfrom\n\s+t\nwhere\n\s+x = 1$/);
  assert.equal(await page.$eval(".cm-content", (c) => c.querySelectorAll(".cm-line").length), formatted.split("\n").length);
  await page.keyboard.press("Control+Z");
  assert.equal(await textareaValue(), "select a,b from t where x=1");
  assert.deepEqual(problems, []);
});

test("Format SQL leaves text it cannot parse as it is", async () => {
  await open();
  await typeSql("select (((");
  await page.click("button.format-sql");
  // closeBrackets may have added closing brackets while typing: compare with what was there.
  const before = await textareaValue();
  await page.click("button.format-sql");
  assert.equal(await textareaValue(), before);
  assert.deepEqual(problems, []);
});

test("Tab moves the focus out of the editor", async () => {
  await open();
  await page.click(".cm-content");
  await page.keyboard.press("Tab");
  const focused = await page.evaluate(() => ({
    inEditor: !!document.activeElement.closest(".cm-editor"),
    type: document.activeElement.type,
  }));
  assert.equal(focused.inEditor, false);
  assert.equal(focused.type, "submit");
  assert.equal(await textareaValue(), "select * from facetable");
});

test("dark colour scheme gives a dark editor", async () => {
  await page.emulateMedia({ colorScheme: "dark" });
  await open();
  const bg = await page.$eval(".cm-editor", (e) => getComputedStyle(e).backgroundColor);
  const [r, g, b] = bg.match(/\d+/g).map(Number);
  assert.ok(r + g + b < 200, `background ${bg}`);
  await page.emulateMedia({ colorScheme: "light" });
  const light = await page.$eval(".cm-editor", (e) => getComputedStyle(e).backgroundColor);
  assert.equal(light, "rgb(255, 255, 255)");
  assert.deepEqual(problems, []);
});

test("a page without the textarea is left alone", async () => {
  await page.goto(`${base}/plain.html`);
  await page.waitForLoadState("load");
  assert.equal(await page.$$eval(".cm-editor, button.format-sql", (e) => e.length), 0);
  assert.deepEqual(problems, []);
});
