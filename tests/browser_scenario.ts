// The browser tier's scenario, shared by the page on its in-page virtual
// camera (?emulate) and the page on real WebUSB (umockdev): each step drives
// the app as a person would (clicks, selects) and checks what they would see.

import assert from "node:assert/strict";
import { exifExposure } from "./_exif.ts";
import { type Browser, decodePng, pixelVariety } from "./_cdp.ts";

/** What the scenario needs from its side of the wire. */
export interface ScenarioCard {
  /** The card's bytes of a file ("/DCIM/100CANON/IMG_0001.JPG"). */
  read(path: string): Promise<Uint8Array>;
  /** Put a big file on the card (for the unplug), before the page lists it. */
  addBigFile(path: string, size: number): Promise<void>;
  /** Pull the camera out. */
  unplug(): Promise<void>;
  /** Whether a file is on the card. */
  exists(path: string): Promise<boolean>;
  /** The owner name the camera holds. */
  owner(): Promise<string>;
}

/** Wait for a file Chromium downloads to be complete in `directory`. */
export async function waitForDownload(
  directory: string,
  name: string,
  timeoutMs = 20_000,
): Promise<Uint8Array> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const names: string[] = [];
    for await (const entry of Deno.readDir(directory)) names.push(entry.name);
    if (names.includes(name) && !names.some((n) => n.endsWith(".crdownload"))) {
      return await Deno.readFile(`${directory}/${name}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`${name} did not arrive in ${directory} (there: ${names.join(", ")})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The page is connected, has listed the card and drawn every thumbnail of the folder. */
export async function waitForApp(browser: Browser): Promise<void> {
  await browser.waitFor("canonApp.connected", "the page to connect to the camera", 30_000);
  await browser.waitFor(
    "canonApp.busy === 0 && document.querySelectorAll('#grid .tile').length > 0 && " +
      "[...document.querySelectorAll('#grid img')].every((i) => i.complete && i.naturalWidth > 0)",
    "the card listing and its thumbnails",
    30_000,
  );
}

/** Identify: the camera panel shows what the camera said. */
export async function checkCameraPanel(browser: Browser, model: string): Promise<void> {
  const panel = await browser.evaluate<Record<string, string>>(`({
    model: document.getElementById("cam-model").textContent,
    owner: document.getElementById("cam-owner").value,
    firmware: document.getElementById("cam-firmware").textContent,
    power: document.getElementById("cam-power").textContent,
    card: document.getElementById("cam-card").textContent,
    clock: document.getElementById("cam-clock").textContent,
  })`);
  assert.equal(panel.model, model);
  assert.match(panel.firmware, /^\d+\.\d+\.\d+\.\d+$/);
  assert.match(panel.power, /mains|battery/);
  assert.match(panel.card, /free of/);
  assert.match(panel.clock, /\d/);
}

/** List: the folders and the grid with its marks. */
export async function checkCardBrowser(browser: Browser): Promise<void> {
  const grid = await browser.evaluate<{ folders: string[]; tiles: Record<string, string>[] }>(`({
    folders: [...document.querySelectorAll("#folders option")].map((o) => o.value),
    tiles: [...document.querySelectorAll("#grid .tile")].map((t) => ({
      path: t.dataset.path,
      marks: t.querySelector(".marks").textContent,
      img: String(t.querySelector("img")?.naturalWidth ?? "none"),
    })),
  })`);
  assert.deepEqual(grid.folders, ["/DCIM/100CANON", "/DCIM/101CANON", "/DCIM/CANONMSC", "/MISC"]);
  const byPath = Object.fromEntries(grid.tiles.map((t) => [t.path, t]));
  // The default card: IMG_0001 downloaded, IMG_0002 protected, IMG_0004 new.
  assert.equal(byPath["/DCIM/100CANON/IMG_0001.JPG"].marks, "");
  assert.equal(byPath["/DCIM/100CANON/IMG_0002.JPG"].marks, "protected");
  assert.equal(byPath["/DCIM/100CANON/IMG_0004.JPG"].marks, "new");
  // Thumbnails are the cameras' 160×120 ones.
  assert.equal(byPath["/DCIM/100CANON/IMG_0001.JPG"].img, "160");
  assert.equal(byPath["/DCIM/100CANON/CRW_0006.CRW"].img, "160");
}

/** Screenshot: not blank, and the thumbnail grid drawn (pixel variety in its box). */
export async function checkScreenshot(browser: Browser, file?: string): Promise<Uint8Array> {
  const png = await browser.screenshot();
  if (file) await Deno.writeFile(file, await browser.screenshot(0.7));
  const image = await decodePng(png);
  const whole = pixelVariety(image, { x: 0, y: 0, width: image.width, height: image.height });
  assert.ok(whole.colours > 50, `the page looks blank (${whole.colours} colours)`);
  const box = await browser.evaluate<{ x: number; y: number; width: number; height: number }>(
    `(() => { const r = document.getElementById("grid").getBoundingClientRect();
      return { x: r.x * devicePixelRatio, y: r.y * devicePixelRatio,
        width: r.width * devicePixelRatio, height: Math.min(r.height, innerHeight - r.y) * devicePixelRatio }; })()`,
  );
  assert.ok(box.width > 100 && box.height > 80, `the grid is ${box.width}×${box.height}`);
  const grid = pixelVariety(image, box);
  assert.ok(
    grid.colours > 200 && grid.luminanceSpread > 20,
    `the thumbnail grid is not drawn (${grid.colours} colours, spread ${grid.luminanceSpread})`,
  );
  return png;
}

async function click(browser: Browser, selector: string): Promise<void> {
  await browser.evaluate(`document.querySelector(${JSON.stringify(selector)}).click()`, true);
}

/** Click, then wait for a job the click started to end with a message matching `message`. */
async function act(
  browser: Browser,
  selector: string,
  message: RegExp,
  what: string,
): Promise<void> {
  const before = await browser.evaluate<number>("canonApp.jobsDone");
  await click(browser, selector);
  await browser.waitFor(
    `canonApp.jobsDone > ${before} && canonApp.busy === 0 && ${message}.test(canonApp.message)`,
    what,
  );
}

/** Show a folder of the card in the grid, with its thumbnails. */
async function showFolder(browser: Browser, folder: string): Promise<void> {
  await browser.evaluate(`(() => {
    const s = document.getElementById("folders");
    s.value = ${JSON.stringify(folder)};
    s.dispatchEvent(new Event("change"));
  })()`);
  await browser.waitFor(
    "canonApp.busy === 0 && [...document.querySelectorAll('#grid .tile')].length > 0 && " +
      `[...document.querySelectorAll('#grid .tile')].every((t) => t.dataset.path.startsWith(${
        JSON.stringify(folder + "/")
      }))`,
    `the grid of ${folder}`,
  );
}

async function selectOnly(browser: Browser, path: string): Promise<void> {
  await browser.evaluate(`(() => {
    for (const t of document.querySelectorAll("#grid .tile.selected")) t.click();
    const tile = document.querySelector('#grid .tile[data-path="${path}"]');
    if (!tile) throw new Error("no tile for ${path}");
    tile.click();
  })()`);
}

/** Download one file through a plain browser download: the bytes are the card's. */
export async function checkDownload(
  browser: Browser,
  card: ScenarioCard,
  downloads: string,
): Promise<void> {
  const path = "/DCIM/100CANON/IMG_0004.JPG";
  await browser.evaluate(`document.getElementById("save-mode").value = "downloads"`);
  await showFolder(browser, "/DCIM/100CANON");
  await selectOnly(browser, path);
  const jobsBefore = await browser.evaluate<number>("canonApp.jobsDone");
  await click(browser, "#download");
  const got = await waitForDownload(downloads, "IMG_0004.JPG");
  const expected = await card.read(path);
  assert.equal(got.length, expected.length);
  assert.ok(got.every((b, i) => b === expected[i]), "the downloaded bytes differ from the card's");
  // The camera's "new" mark goes once the file is saved.
  await browser.waitFor(
    `canonApp.jobsDone > ${jobsBefore} && canonApp.busy === 0 && ` +
      `document.querySelector('#grid .tile[data-path="${path}"] .marks').textContent === ""`,
    "the new mark to go",
  );
  assert.match(await browser.evaluate<string>("canonApp.message"), /Saved 1 file/);
}

/** Remote capture with a setting: the picture is shown, downloadable, and has the ISO asked for. */
export async function checkCapture(browser: Browser, downloads: string): Promise<void> {
  await click(browser, "#remote");
  await browser.waitFor(
    "canonApp.busy === 0 && document.querySelector('#settings select[name=iso]')",
    "remote mode and its settings",
    30_000,
  );
  const iso = await browser.evaluate<string>(`(() => {
    const s = document.querySelector("#settings select[name=iso]");
    const option = [...s.options].find((o) => o.textContent === "400") ?? s.options[s.options.length - 1];
    s.value = option.value;
    s.dispatchEvent(new Event("change"));
    return option.textContent;
  })()`);
  await browser.waitFor(
    "canonApp.busy === 0 && document.querySelector('#settings select[name=iso]').selectedOptions[0].textContent === " +
      JSON.stringify(iso),
    `ISO ${iso} to be set`,
  );
  await click(browser, "#shoot");
  await browser.waitFor(
    "canonApp.busy === 0 && document.getElementById('shot').naturalWidth > 0 && " +
      "!document.getElementById('shot-link').hidden",
    "the picture to be shown",
    30_000,
  );
  const name = await browser.evaluate<string>("document.getElementById('shot-link').download");
  assert.match(name, /^IMG_\d{4}\.JPG$/);
  await click(browser, "#shot-link");
  const jpeg = await waitForDownload(downloads, name);
  assert.equal(exifExposure(jpeg).iso, Number(iso));
}

/** The viewfinder draws frame after frame; ten arrive, then it stops when asked. */
export async function checkViewfinder(browser: Browser): Promise<void> {
  const before = await browser.evaluate<number>("canonApp.frames");
  await click(browser, "#viewfinder");
  await browser.waitFor(`canonApp.frames >= ${before + 10}`, "ten viewfinder frames", 30_000);
  const drawn = await browser.evaluate<number>(`(() => {
    const c = document.getElementById("live");
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    const seen = new Set();
    for (let i = 0; i < d.length; i += 4 * 7) seen.add((d[i] >> 4) << 8 | (d[i + 1] >> 4) << 4 | d[i + 2] >> 4);
    return seen.size;
  })()`);
  assert.ok(drawn > 20, `the viewfinder canvas holds ${drawn} colours`);
  await click(browser, "#viewfinder");
  await browser.waitFor(
    "document.getElementById('viewfinder').textContent === 'Viewfinder'",
    "the viewfinder to stop",
  );
}

/** Unplug during a long download: a clear message, nothing saved, nothing left hanging. */
export async function checkUnplugMidDownload(
  browser: Browser,
  card: ScenarioCard,
  downloads: string,
  saveTo: "downloads" | "folder" = "downloads",
): Promise<void> {
  const path = "/DCIM/100CANON/MVI_0099.AVI";
  if (saveTo === "folder") {
    await browser.evaluate(
      `globalThis.showDirectoryPicker = () => navigator.storage.getDirectory()`,
    );
  }
  await browser.evaluate(
    `document.getElementById("save-mode").value = ${
      JSON.stringify(saveTo === "folder" ? "picker" : "downloads")
    }`,
  );
  await card.addBigFile(path, 6 * 1024 * 1024);
  await showFolder(browser, "/DCIM/100CANON");
  await click(browser, "#refresh");
  await browser.waitFor(
    `canonApp.busy === 0 && document.querySelector('#grid .tile[data-path="${path}"]')`,
    "the big file in the grid",
  );
  await selectOnly(browser, path);
  await click(browser, "#download");
  await browser.waitFor(
    "document.getElementById('job-progress').value > 0 && " +
      "document.getElementById('job-label').textContent.startsWith('Downloading MVI_0099')",
    "the download to be under way",
  );
  await card.unplug();
  await browser.waitFor(
    "canonApp.busy === 0 && !canonApp.connected && canonApp.messageIsError",
    "the page to notice the unplug",
    15_000,
  );
  assert.match(await browser.evaluate<string>("canonApp.message"), /camera was unplugged/);
  const left: string[] = [];
  for await (const entry of Deno.readDir(downloads)) left.push(entry.name);
  assert.ok(!left.some((n) => n.startsWith("MVI_0099")), `saved anyway: ${left.join(", ")}`);
  if (saveTo === "folder") {
    // Neither the file nor the browser's swap file for it stays in the folder.
    const names = await browser.evaluate<string[]>(`(async () => {
      const names = [];
      for await (const [name] of (await navigator.storage.getDirectory()).entries()) names.push(name);
      return names;
    })()`);
    assert.ok(!names.some((n) => n.startsWith("MVI_0099")), `left in the folder: ${names}`);
  }
}

/** Owner, clock, protect, delete: each shows on the page and lands on the card. */
export async function checkCardActions(browser: Browser, card: ScenarioCard): Promise<void> {
  await browser.evaluate(
    `(() => {
    document.getElementById("cam-owner").value = "Ada Lovelace";
    document.querySelector("#owner-form button").click();
  })()`,
    true,
  );
  await browser.waitFor(
    "canonApp.busy === 0 && /Ada Lovelace/.test(canonApp.message)",
    "the owner",
  );
  assert.equal(await card.owner(), "Ada Lovelace");

  await act(browser, "#sync-clock", /clock was/, "the clock");
  assert.match(
    await browser.evaluate<string>("document.getElementById('cam-clock').textContent"),
    /in step|1 s/,
  );

  const target = "/DCIM/100CANON/IMG_0003.JPG";
  await showFolder(browser, "/DCIM/100CANON");
  await selectOnly(browser, target);
  await click(browser, "#protect");
  await browser.waitFor(
    `canonApp.busy === 0 && document.querySelector('#grid .tile[data-path="${target}"] .marks')?.textContent === "protected"`,
    "the protected mark",
  );
  // A protected file is not deleted; the others are, after the confirming second click.
  await browser.evaluate(`(() => {
    document.querySelector('#grid .tile[data-path="/DCIM/100CANON/IMG_0005.JPG"]').click();
  })()`);
  await click(browser, "#delete");
  assert.match(
    await browser.evaluate<string>("document.getElementById('delete').textContent"),
    /Really delete 2/,
  );
  assert.ok(await card.exists("/DCIM/100CANON/IMG_0005.JPG"), "deleted on the first click");
  await click(browser, "#delete");
  await browser.waitFor(
    "canonApp.busy === 0 && !document.querySelector('#grid .tile[data-path=\"/DCIM/100CANON/IMG_0005.JPG\"]')",
    "the deleted file to leave the grid",
  );
  assert.match(
    await browser.evaluate<string>("canonApp.message"),
    /Protected, so not deleted: IMG_0003\.JPG/,
  );
  assert.ok(!await card.exists("/DCIM/100CANON/IMG_0005.JPG"), "still on the card");
  assert.ok(await card.exists(target), "the protected file went");
  await click(browser, "#unprotect");
  await browser.waitFor(
    `canonApp.busy === 0 && document.querySelector('#grid .tile[data-path="${target}"] .marks')?.textContent === ""`,
    "the protected mark to go",
  );
}

/**
 * Save to a folder through the File System Access API: the folder is the
 * page's origin-private file system, handed to the app as the user's pick (a
 * headless browser shows no picker), so the app's own path runs: the file
 * arrives whole, and an existing file is not replaced.
 */
export async function checkSaveToFolder(browser: Browser, card: ScenarioCard): Promise<void> {
  const path = "/DCIM/101CANON/IMG_0102.JPG";
  await browser.evaluate(`globalThis.showDirectoryPicker = () => navigator.storage.getDirectory()`);
  await browser.evaluate(`document.getElementById("save-mode").value = "picker"`);
  await showFolder(browser, "/DCIM/101CANON");
  await selectOnly(browser, path);
  await act(browser, "#download", /Saved 1 file to/, "the save");
  const readBack = `(async () => {
    const dir = await navigator.storage.getDirectory();
    const names = [];
    for await (const [name] of dir.entries()) names.push(name);
    if (!names.includes("IMG_0102.JPG")) throw new Error("the folder holds " + names.join(", "));
    const file = await (await dir.getFileHandle("IMG_0102.JPG")).getFile();
    const bytes = new Uint8Array(await file.arrayBuffer());
    let s = ""; for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s);
  })()`;
  const saved = Uint8Array.from(
    atob(await browser.evaluate<string>(readBack)),
    (c) => c.charCodeAt(0),
  );
  assert.deepEqual(saved, await card.read(path));
  // Again: the file there is kept, and the page says so.
  await selectOnly(browser, path);
  await click(browser, "#download");
  await browser.waitFor(
    "canonApp.busy === 0 && /Not replaced/.test(canonApp.message)",
    "the refusal",
  );
  assert.match(await browser.evaluate<string>("canonApp.message"), /Saved 0 files.*IMG_0102\.JPG/);
  await browser.evaluate(`document.getElementById("save-mode").value = "downloads"`);
}
