// Browser tier, part 2: the web app in a real headless Chromium driving the
// virtual camera through Chromium's real WebUSB stack: the camera is plugged
// into a umockdev testbed (device node as a FIFO, so that Chromium's epoll
// accepts it), the managed policy WebUsbAllowDevicesForUrls grants it to the
// page's origin (no chooser), and the DevTools protocol drives the page.
import assert from "node:assert/strict";
import process from "node:process";
import { serveWebApp } from "../src/cli/web_command.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import { VirtualCamera } from "../src/emulator/host/virtual_camera.ts";
import { openUsbDevice } from "../src/usb/discovery.ts";
import { Browser, findChromium, procStat } from "./_cdp.ts";
import {
  checkCameraPanel,
  checkCapture,
  checkCardActions,
  checkCardBrowser,
  checkDownload,
  checkScreenshot,
  checkUnplugMidDownload,
  checkViewfinder,
  type ScenarioCard,
  waitForApp,
} from "./browser_scenario.ts";
import { gphoto2, hasCommand, skipWithout } from "./_support.ts";

const POLICY_DIR = "/etc/chromium/policies/managed";
const chromium = await findChromium();
if (!chromium) {
  console.warn("browser tier skipped: Chromium is not installed (apt-get install chromium)");
}
const umockdev = await hasCommand("umockdev-run", ["--version"]);

/** Whether this process may write Chromium's managed policies (it must be root). */
async function policyWritable(): Promise<boolean> {
  try {
    await Deno.mkdir(POLICY_DIR, { recursive: true });
    const probe = `${POLICY_DIR}/.canon-remote-probe-${Deno.pid}`;
    await Deno.writeTextFile(probe, "{}");
    await Deno.remove(probe);
    return true;
  } catch {
    return false;
  }
}
const canGrant = chromium !== undefined && await policyWritable();
if (chromium && !canGrant) {
  console.warn(
    `browser tier (WebUSB) skipped: granting the camera to the page needs a policy file in ${POLICY_DIR}; run the tests as root`,
  );
}

/** CPU seconds a process has used (user + system), from /proc. */
async function cpuSeconds(pid: number): Promise<number> {
  const fields = await procStat(pid);
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks
}

/**
 * Remove the policy files of test runs that ended without cleaning up (killed):
 * Chromium takes one WebUsbAllowDevicesForUrls from all the files, so a stale
 * one would hide this run's grant.
 */
async function removeStalePolicies(): Promise<void> {
  for await (const entry of Deno.readDir(POLICY_DIR)) {
    const match = /^canon-remote-test-(?:(\d+)-)?\d+\.json$/.exec(entry.name);
    if (!match) continue;
    const pid = match[1];
    if (pid !== undefined && pid !== String(Deno.pid)) {
      try {
        await Deno.stat(`/proc/${pid}`);
        continue; // a run still going
      } catch {
        // its process is gone
      }
    }
    if (pid === String(Deno.pid)) continue;
    await Deno.remove(`${POLICY_DIR}/${entry.name}`).catch(() => undefined);
  }
}

async function installPolicy(port: number, ...productIds: number[]): Promise<string> {
  await Deno.mkdir(POLICY_DIR, { recursive: true });
  await removeStalePolicies();
  const file = `${POLICY_DIR}/canon-remote-test-${Deno.pid}-${port}.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      WebUsbAllowDevicesForUrls: [{
        devices: productIds.map((id) => ({ vendor_id: 0x04a9, product_id: id })),
        urls: [`http://localhost:${port}`, `http://127.0.0.1:${port}`],
      }],
    }),
  );
  return file;
}

Deno.test({
  name: "the web app on real WebUSB (Chromium, umockdev): the whole scenario, and no busy loop",
  ignore: skipWithout(chromium !== undefined, "chromium") ||
    skipWithout(umockdev, "umockdev") || skipWithout(canGrant, `write access to ${POLICY_DIR}`),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const camera = new VirtualCamera({ busModel: true });
    const testbed = UmockdevTestbed.open();
    const server = await serveWebApp(0);
    const downloads = await Deno.makeTempDir({ prefix: "canon-downloads-" });
    let policy: string | undefined;
    let browser: Browser | undefined;
    try {
      const device = testbed.attach(camera.usbFunction, { fifo: true });
      policy = await installPolicy(server.port, camera.productId);
      browser = await Browser.launch(chromium!, { url: server.url, env: testbed.env() });
      const page = browser;
      await page.allowDownloads(downloads);
      const card: ScenarioCard = {
        read: (path) => {
          const segments = path.split("/").filter(Boolean);
          const size = camera.card!.find(segments)!.size;
          return Promise.resolve(camera.card!.read(segments, 0, size));
        },
        addBigFile: (path, size) => {
          const bytes = Uint8Array.from({ length: size }, (_, i) => (i * 7919) & 0xff);
          camera.card!.write(path.split("/").filter(Boolean), 0, bytes);
          return Promise.resolve();
        },
        unplug: () => {
          device.detach();
          return Promise.resolve();
        },
        exists: (path) =>
          Promise.resolve(camera.card!.find(path.split("/").filter(Boolean)) !== undefined),
        owner: () => Promise.resolve(camera.owner),
      };

      await t.step("the policy grants the camera: the page offers it", async () => {
        const label = await page.waitFor<string>(
          "document.querySelector('#granted button')?.textContent",
          "the granted camera's button",
        );
        assert.equal(label, "Connect PowerShot G3");
      });
      await t.step("identify, list, thumbnails", async () => {
        await page.evaluate("document.querySelector('#granted button').click()", true);
        await waitForApp(page);
        await checkCameraPanel(page, "Canon PowerShot G3");
        await checkCardBrowser(page);
      });
      await t.step("the screenshot shows the grid", async () => {
        await checkScreenshot(page);
      });
      await t.step("the open device does not keep either side busy", async () => {
        const chromiumBefore = await cpuSeconds(page.pid);
        const ownBefore = process.cpuUsage();
        const started = performance.now();
        await new Promise((r) => setTimeout(r, 2000));
        const seconds = (performance.now() - started) / 1000;
        const chromiumShare = (await cpuSeconds(page.pid) - chromiumBefore) / seconds;
        const own = process.cpuUsage(ownBefore);
        const ownShare = (own.user + own.system) / 1e6 / seconds;
        console.log(
          `idle with the device open: Chromium ${(chromiumShare * 100).toFixed(1)} %, ` +
            `emulator ${(ownShare * 100).toFixed(1)} % of a core`,
        );
        assert.ok(chromiumShare < 0.15, `Chromium spins: ${chromiumShare}`);
        assert.ok(ownShare < 0.15, `the emulator spins: ${ownShare}`);
      });
      await t.step("download one file", () => checkDownload(page, card, downloads));
      await t.step("owner, clock, protect, delete", () => checkCardActions(page, card));
      await t.step("capture with a setting", () => checkCapture(page, downloads));
      await t.step("ten viewfinder frames", () => checkViewfinder(page));
      await t.step(
        "the screenshot after a capture (the README's, with CANON_SCREENSHOT)",
        async () => {
          await page.waitFor("canonApp.busy === 0", "the page to be idle");
          await page.evaluate("scrollTo(0, 0)");
          await checkScreenshot(page, Deno.env.get("CANON_SCREENSHOT"));
        },
      );
      await t.step("unplug mid-download", () => checkUnplugMidDownload(page, card, downloads));
    } finally {
      await browser?.close();
      if (policy) await Deno.remove(policy).catch(() => undefined);
      await server.close();
      testbed.close();
      await Deno.remove(downloads, { recursive: true });
    }
  },
});

Deno.test({
  name: "a FIFO device node still serves gphoto2 (libusb's poll) and downloads whole files",
  ignore: skipWithout(umockdev, "umockdev") ||
    skipWithout(await hasCommand("gphoto2"), "gphoto2"),
  async fn() {
    const camera = new VirtualCamera();
    using testbed = UmockdevTestbed.open();
    const device = testbed.attach(camera.usbFunction, { fifo: true });
    const node = await Deno.lstat(`${testbed.root}${device.devnode}`);
    assert.ok(node.isFifo, "the device node is not a FIFO");
    const dir = await Deno.makeTempDir({ prefix: "canon-fifo-gphoto2-" });
    try {
      const port = `usb:${String(device.bus).padStart(3, "0")},${
        String(device.address).padStart(3, "0")
      }`;
      const run = await gphoto2(
        testbed,
        ["--port", port, "-L", "--get-file", "/DCIM/100CANON/IMG_0001.JPG"],
        dir,
      );
      assert.equal(run.code, 0, run.out);
      const got = await Deno.readFile(`${dir}/IMG_0001.JPG`);
      const segments = ["DCIM", "100CANON", "IMG_0001.JPG"];
      const expected = camera.card!.read(segments, 0, camera.card!.find(segments)!.size);
      assert.deepEqual(got, expected);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "the web app on real WebUSB says what is wrong: PTP mode, a camera held by another program, USB forbidden, no WebUSB",
  ignore: skipWithout(chromium !== undefined, "chromium") ||
    skipWithout(umockdev, "umockdev") || skipWithout(canGrant, `write access to ${POLICY_DIR}`),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const ptp = new VirtualCamera({ productId: 0x306f }); // the G3 in PTP mode (models.ts)
    const held = new VirtualCamera();
    const testbed = UmockdevTestbed.open();
    const server = await serveWebApp(0);
    let policy: string | undefined;
    let browser: Browser | undefined;
    let other: Awaited<ReturnType<typeof openUsbDevice>> | undefined;
    try {
      testbed.attach(ptp.usbFunction, { fifo: true });
      const plugged = testbed.attach(held.usbFunction, { fifo: true });
      policy = await installPolicy(server.port, 0x306f, held.productId);
      browser = await Browser.launch(chromium!, { url: server.url, env: testbed.env() });
      const page = browser;
      await page.waitFor(
        "document.querySelectorAll('#granted button').length === 2",
        "both granted devices",
      );
      const connect = async (productId: string) => {
        await page.evaluate(
          `document.querySelector('#granted button[data-product-id="${productId}"]').click()`,
          true,
        );
        return await page.waitFor<string>(
          "canonApp.busy === 0 && canonApp.messageIsError && canonApp.message",
          "an error message",
        );
      };
      await t.step("a camera in PTP mode", async () => {
        assert.equal(
          await page.evaluate(
            "document.querySelector('#granted button[data-product-id=\"306f\"]').textContent",
          ),
          "Connect PowerShot G3 (PTP mode)",
        );
        const message = await connect("306f");
        assert.match(message, /The PowerShot G3 is in PTP mode/);
        assert.match(message, /USB mode/);
        assert.equal(await page.evaluate("canonApp.connected"), false);
      });
      await t.step("a camera another program has claimed", async () => {
        if (!testbed.preloaded) return; // libusb here needs the preload (deno task test sets it)
        other = await openUsbDevice({ bus: plugged.bus, address: plugged.address });
        await other.open();
        await other.claimInterface(0);
        await page.evaluate(
          "canonApp.message = ''; document.getElementById('message').hidden = true",
        );
        const message = await connect("306e");
        assert.match(message, /Another program holds the camera/);
        assert.equal(await page.evaluate("canonApp.connected"), false);
        await other.close();
        other = undefined;
      });
      await t.step("a page whose permissions policy forbids USB", async () => {
        // The server's answer for the page gets `Permissions-Policy: usb=()`, as a site
        // embedding the page without allow="usb" would impose.
        await page.send("Fetch.enable", {
          patterns: [{
            urlPattern: `${server.url}*`,
            resourceType: "Document",
            requestStage: "Response",
          }],
        });
        const paused = page.nextEvent("Fetch.requestPaused");
        const reload = page.send("Page.reload");
        const request = await paused;
        const body = await page.send("Fetch.getResponseBody", { requestId: request.requestId });
        await page.send("Fetch.fulfillRequest", {
          requestId: request.requestId,
          responseCode: 200,
          responseHeaders: [
            { name: "content-type", value: "text/html; charset=utf-8" },
            { name: "permissions-policy", value: "usb=()" },
          ],
          body: body.body,
        });
        await reload;
        await page.send("Fetch.disable");
        const message = await page.waitFor<string>("globalThis.canonApp?.message", "a message");
        assert.match(message, /not allowed to use USB \(its permissions policy/);
        // The connect button (requestDevice) meets the same refusal and says so.
        await page.evaluate("canonApp.message = ''");
        await page.evaluate("document.getElementById('connect').click()", true);
        assert.match(
          await page.waitFor<string>("canonApp.message", "the connect button's message"),
          /permissions policy/,
        );
      });
      await t.step("a browser without WebUSB", async () => {
        await page.send("Page.addScriptToEvaluateOnNewDocument", {
          source: "Object.defineProperty(Navigator.prototype, 'usb', { get: () => undefined });",
        });
        await page.send("Page.reload");
        const message = await page.waitFor<string>("globalThis.canonApp?.message", "a message");
        assert.match(message, /no WebUSB/);
        assert.equal(await page.evaluate("document.getElementById('connect').disabled"), true);
      });
    } finally {
      await other?.close().catch(() => undefined);
      await browser?.close();
      if (policy) await Deno.remove(policy).catch(() => undefined);
      await server.close();
      testbed.close();
    }
  },
});
