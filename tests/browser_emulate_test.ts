// Browser tier, part 1: the web app in a real headless Chromium on its
// in-page virtual camera (?emulate), as `canon web --emulate` serves it.
import assert from "node:assert/strict";
import { serveWebApp } from "../src/cli/web_command.ts";
import { Browser, findChromium } from "./_cdp.ts";
import {
  checkCameraPanel,
  checkCapture,
  checkCardActions,
  checkCardBrowser,
  checkDownload,
  checkSaveToFolder,
  checkScreenshot,
  checkUnplugMidDownload,
  checkViewfinder,
  type ScenarioCard,
  waitForApp,
} from "./browser_scenario.ts";
import { skipWithout } from "./_support.ts";

const chromium = await findChromium();
if (!chromium) {
  console.warn("browser tier skipped: Chromium is not installed (apt-get install chromium)");
}

Deno.test({
  name:
    "the web app on ?emulate: identify, list, thumbnails, download, capture, viewfinder, unplug",
  ignore: skipWithout(chromium !== undefined, "chromium"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const server = await serveWebApp(0);
    const downloads = await Deno.makeTempDir({ prefix: "canon-downloads-" });
    const browser = await Browser.launch(chromium!, {
      url: `${server.url}?emulate`,
      unsetEnv: ["LD_PRELOAD"],
    });
    try {
      await browser.allowDownloads(downloads);
      const card: ScenarioCard = {
        read: async (path) => {
          const b64 = await browser.evaluate<string>(`(() => {
            const segments = ${JSON.stringify(path)}.split("/").filter(Boolean);
            const size = canonApp.virtual.card.find(segments).size;
            const bytes = canonApp.virtual.card.read(segments, 0, size);
            let s = ""; for (const b of bytes) s += String.fromCharCode(b);
            return btoa(s);
          })()`);
          return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        },
        addBigFile: async (path, size) => {
          await browser.evaluate(`canonApp.virtual.card.write(
            ${JSON.stringify(path)}.split("/").filter(Boolean), 0,
            Uint8Array.from({ length: ${size} }, (_, i) => (i * 7919) & 0xff))`);
        },
        unplug: async () => {
          await browser.evaluate("canonApp.virtual.unplug()");
        },
        exists: (path) =>
          browser.evaluate<boolean>(
            `canonApp.virtual.card.find(${
              JSON.stringify(path)
            }.split("/").filter(Boolean)) !== undefined`,
          ),
        owner: () => browser.evaluate<string>("canonApp.virtual.owner"),
      };
      await t.step("identify, list, thumbnails", async () => {
        await waitForApp(browser);
        await checkCameraPanel(browser, "Canon PowerShot G3");
        await checkCardBrowser(browser);
      });
      await t.step("the API module alone runs in the page (no Deno there)", async () => {
        const got = await browser.evaluate<Record<string, unknown>>(`(async () => {
          const api = await import("/canon-remote.js");
          const { virtualUsbDevice } = await import("/emulator.js");
          const usb = virtualUsbDevice({ owner: "Page" });
          const cam = await api.Camera.connect(new api.WebUsbDevice(usb));
          const id = await cam.identify();
          const files = await cam.storage.list("/DCIM/101CANON");
          let refused = "";
          await cam.storage.download("/DCIM/101CANON/IMG_0101.JPG", "/tmp/x.jpg")
            .catch((e) => refused = e.name);
          let uploadRefused = "";
          await cam.storage.upload("/tmp/IMG_0200.JPG", "/DCIM/101CANON")
            .catch((e) => uploadRefused = e.name + ": " + e.message);
          await cam.close();
          return { model: id.modelName, owner: id.owner, files: files.map((f) => f.name),
            deno: typeof Deno, refused, uploadRefused };
        })()`);
        assert.match(
          String(got.uploadRefused),
          /^HostPathUnavailableError: \/tmp\/IMG_0200\.JPG: a page cannot read host files; upload the bytes/,
        );
        delete got.uploadRefused;
        assert.deepEqual(got, {
          model: "Canon PowerShot G3",
          owner: "Page",
          files: ["IMG_0101.JPG", "IMG_0102.JPG"],
          deno: "undefined",
          refused: "HostPathUnavailableError",
        });
      });
      await t.step("the screenshot shows the grid", async () => {
        await checkScreenshot(browser, Deno.env.get("CANON_SCREENSHOT_EMULATE"));
      });
      await t.step("download one file", () => checkDownload(browser, card, downloads));
      await t.step("save to a folder (File System Access)", () => checkSaveToFolder(browser, card));
      await t.step("owner, clock, protect, delete", () => checkCardActions(browser, card));
      await t.step("capture with a setting", () => checkCapture(browser, downloads));
      await t.step("ten viewfinder frames", () => checkViewfinder(browser));
      await t.step(
        "unplug mid-download into a folder",
        () => checkUnplugMidDownload(browser, card, downloads, "folder"),
      );
    } finally {
      await browser.close();
      await server.close();
      await Deno.remove(downloads, { recursive: true });
    }
  },
});
