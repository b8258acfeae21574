// Browser tier, part 1: the web app in a real headless Chromium on its
// in-page virtual camera (?emulate), as `canon web --emulate` serves it.
import { serveWebApp } from "../src/cli/web_command.ts";
import { Browser, findChromium } from "./_cdp.ts";
import {
  checkCameraPanel,
  checkCapture,
  checkCardBrowser,
  checkDownload,
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
      };
      await t.step("identify, list, thumbnails", async () => {
        await waitForApp(browser);
        await checkCameraPanel(browser, "Canon PowerShot G3");
        await checkCardBrowser(browser);
      });
      await t.step("the screenshot shows the grid", async () => {
        await checkScreenshot(browser, Deno.env.get("CANON_SCREENSHOT_EMULATE"));
      });
      await t.step("download one file", () => checkDownload(browser, card, downloads));
      await t.step("capture with a setting", () => checkCapture(browser, downloads));
      await t.step("ten viewfinder frames", () => checkViewfinder(browser));
      await t.step("unplug mid-download", () => checkUnplugMidDownload(browser, card, downloads));
    } finally {
      await browser.close();
      await server.close();
      await Deno.remove(downloads, { recursive: true });
    }
  },
});
