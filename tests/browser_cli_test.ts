// Tier 5 for the web app: `canon web` as a user types it serves the page on
// localhost, prints where, and stops cleanly on Ctrl+C (SIGINT).
import assert from "node:assert/strict";

const MAIN = new URL("../src/cli/main.ts", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;

/** `deno task canon ARGS`, as the README prints it. */
async function startWeb(args: string[], env: Record<string, string> = {}) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "canon", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  const deadline = Date.now() + 60_000;
  while (!/\n.*\n/.test(out) && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  return { child, reader, out };
}

Deno.test("canon web serves the app on localhost, says where, and stops on Ctrl+C", async () => {
  const { child, reader, out } = await startWeb(["web", "--listen", "0"], {
    DISPLAY: "",
    WAYLAND_DISPLAY: "",
  });
  try {
    const url = out.match(/at (http:\/\/localhost:\d+\/) /)?.[1];
    assert.ok(url, out);
    // No desktop to open a browser on: the address is printed instead.
    assert.match(out, new RegExp(`Open ${url.replace(/[/.]/g, "\\$&")} in Chrome`));
    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
    assert.match(await page.text(), /<title>canon-remote<\/title>/);
    const app = await fetch(`${url}app.js`);
    assert.match(app.headers.get("content-type") ?? "", /javascript/);
    assert.match(await app.text(), /navigator\.usb|requestDevice/);
    const missing = await fetch(`${url}../deno.json`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  } finally {
    child.kill("SIGINT");
    const status = await child.status;
    await reader.cancel();
    await child.stderr.cancel();
    // Ctrl+C ends every command the same way: exit 130, as shells report SIGINT.
    assert.equal(status.code, 130);
  }
});

Deno.test("canon --emulate web points at the in-page virtual camera", async () => {
  const { child, reader, out } = await startWeb(["--emulate", "web", "--listen", "0", "--no-open"]);
  try {
    assert.match(out, /^Serving the canon-remote web app at http:\/\/localhost:\d+\/\?emulate /m);
    assert.match(out, /the virtual camera works in any browser/);
  } finally {
    child.kill("SIGINT");
    await child.status;
    await reader.cancel();
    await child.stderr.cancel();
  }
});

Deno.test("canon web refuses a port that is not a number", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, "web", "--listen", "http"],
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  assert.equal(out.code, 2);
  assert.match(new TextDecoder().decode(out.stderr), /--listen takes a port number/);
});
