// Run by web_page_test.cpp: Debian's chromium, headless through playwright-core, uses the chat
// page of a running kiln serve: types a message, watches the answer stream in, stops a long
// answer, checks the markdown renderer escapes HTML, and saves a screenshot.
// Usage: node web_page.cjs URL CHROMIUM SCREENSHOT.png [MODEL_ID]   (NODE_PATH must reach
// playwright-core; MODEL_ID defaults to "tiny", the test server's)
"use strict";
const { chromium } = require("playwright-core");

function check(cond, what) {
  if (!cond) throw new Error("check failed: " + what);
  console.log("ok   " + what);
}

async function main() {
  const [url, executablePath, screenshot, model = "tiny"] = process.argv.slice(2);
  const browser = await chromium.launch({ executablePath, headless: true, args: ["--no-sandbox"] });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(url);
    await page.waitForFunction(() => document.getElementById("model").textContent.length > 0);
    check(await page.textContent("#model") === model, "the page shows the model from /v1/models");

    // Count how often an answer's text is replaced while it streams (once per chunk).
    await page.evaluate(() => {
      window.__updates = 0;
      new MutationObserver((records) => {
        for (const r of records) if (r.target.matches && r.target.matches(".msg.assistant > .body")) window.__updates++;
      }).observe(document.getElementById("log"), { childList: true, subtree: true });
    });
    await page.fill("#system", "You are a storyteller.");
    await page.fill("#temperature", "0");
    await page.fill("#max_tokens", "24");
    await page.fill("#input", "Tell me a story.");
    await page.press("#input", "Enter");
    await page.waitForSelector(".msg.assistant");
    await page.waitForFunction(() => !document.getElementById("send").disabled && document.getElementById("stop").disabled);
    const answer = await page.textContent(".msg.assistant .body");
    check(answer.trim().length > 0, "an answer appeared: " + JSON.stringify(answer.slice(0, 60)));
    const updates = await page.evaluate(() => window.__updates);
    check(updates > 5, "it streamed in over several updates (" + updates + ")");
    check(/tokens\/s/.test(await page.textContent("#status")), "tokens/s is shown: " + (await page.textContent("#status")));
    check(await page.textContent(".msg.user .body") === "Tell me a story.", "the user's message is shown");

    // The stop button ends a long answer: clicked from a mutation observer as soon as the first
    // text shows, so the answer (up to the 4096-token context) cannot finish first.
    await page.evaluate(() => {
      new MutationObserver((records, observer) => {
        const body = document.querySelectorAll(".msg.assistant .body")[1];
        if (body && body.textContent.length > 0) {
          observer.disconnect();
          document.getElementById("stop").click();
        }
      }).observe(document.getElementById("log"), { childList: true, subtree: true });
    });
    await page.fill("#max_tokens", "100000");
    await page.fill("#input", "Another one.");
    await page.press("#input", "Enter");
    await page.waitForFunction(() => document.querySelectorAll(".msg.assistant").length === 2 &&
                                     !document.getElementById("send").disabled);
    const stopped = await page.textContent("#status");
    const partial = await page.evaluate(() => document.querySelectorAll(".msg.assistant .body")[1].textContent.length);
    check(/^\d+ tokens?(, [\d.]+ tokens\/s)? \(stopped\)$/.test(stopped), "the stop button stops the answer: " + stopped + ", " + partial + " characters");
    // The server saw the browser leave and freed the slot.
    let metrics = "";
    for (let i = 0; i < 100 && !/kiln_slots_busy 0\n/.test(metrics); i++) {
      metrics = await page.evaluate(() => fetch("/metrics").then((r) => r.text()));
      await page.waitForTimeout(20);
    }
    check(/kiln_slots_busy 0\n/.test(metrics) && /kiln_requests_cancelled_total 1\n/.test(metrics),
          "the server cancelled the stopped request and freed its slot");

    // Markdown: tags from the model are text; code blocks, bold, lists and <think> render.
    const html = await page.evaluate(() =>
      render("<think>plan **it**</think># Title\n**bold** and `x<y`\n- one\n- two\n```js\nif (a < b) {}\n```\n<img src=x onerror=alert(1)>"));
    check(html.includes("<details><summary>thinking</summary>"), "a closed <think> section is collapsible");
    check(html.includes("<h1>Title</h1>") && html.includes("<strong>bold</strong>"), "headings and bold");
    check(html.includes("<code>x&lt;y</code>") && html.includes("<ul><li>one</li><li>two</li></ul>"), "inline code and lists");
    check(html.includes('<pre><code class="lang-js">if (a &lt; b) {}</code></pre>'), "fenced code blocks");
    check(!html.includes("<img") && html.includes("&lt;img"), "HTML from the model is escaped");
    check(errors.length === 0, "no page errors: " + errors.join("; "));
    await page.screenshot({ path: screenshot });
    console.log("screenshot " + screenshot);
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.log("FAIL " + (e && e.stack ? e.stack : e));
  process.exit(1);
});
