/// <reference lib="dom" />
/**
 * The canon-remote web app: a thin page over the browser build of the public
 * API. It connects to a camera through `navigator.usb` (or, with `?emulate`,
 * to the in-page virtual camera), and offers the camera panel, the card
 * browser, remote capture with the viewfinder, and the wire log.
 *
 * @module
 */

import {
  Camera,
  CANON_VENDOR_ID,
  CanonError,
  type CaptureSettings,
  modelByProductId,
  OTHER_MODE_IDS,
  type RemoteMode,
  setLogLevel,
  setLogSink,
  type SettingChoices,
  type StorageEntry,
  type UsbDevice,
  UsbError,
  WebUsbDevice,
} from "./canon_browser.ts";

// ---------------------------------------------------------------------------
// The browser's WebUSB and File System Access surfaces (typed here: Deno's DOM
// library has neither).

interface BrowserUsbDevice extends UsbDevice {
  readonly vendorId: number;
  readonly productId: number;
}

interface BrowserUsb extends EventTarget {
  getDevices(): Promise<BrowserUsbDevice[]>;
  requestDevice(options: { filters: { vendorId: number }[] }): Promise<BrowserUsbDevice>;
}

interface WritableFile extends WritableStream<Uint8Array> {}

interface FileHandle {
  createWritable(): Promise<WritableFile>;
}

interface DirectoryHandle {
  readonly name: string;
  getFileHandle(name: string, options?: { create?: boolean }): Promise<FileHandle>;
  removeEntry(name: string): Promise<void>;
}

type DirectoryPicker = (options?: { mode?: "readwrite"; id?: string }) => Promise<DirectoryHandle>;

/** What the virtual camera module (`emulator.js`) offers the page. */
interface EmulatorModule {
  virtualUsbDevice(options?: Record<string, unknown>): UsbDevice & { camera: { unplug(): void } };
}

/** What a test (or a curious user in the console) can read: `globalThis.canonApp`. */
interface AppState {
  /** Connected to a camera. */
  connected: boolean;
  /** Whether the page runs on the in-page virtual camera. */
  emulated: boolean;
  /** Jobs running now. */
  busy: number;
  /** Jobs finished since the page loaded. */
  jobsDone: number;
  /** The last message shown (error or notice). */
  message: string;
  /** Whether the last message was an error. */
  messageIsError: boolean;
  /** Viewfinder frames drawn. */
  frames: number;
  /** Files saved (card paths), in order. */
  saved: string[];
  /** Files in the grid with a drawn thumbnail. */
  thumbnails: number;
  /** The camera, when connected. */
  camera: Camera | undefined;
  /** The virtual camera, on `?emulate` (for unplugging it in a demo). */
  virtual: { unplug(): void } | undefined;
}

const state: AppState = {
  connected: false,
  emulated: false,
  busy: 0,
  jobsDone: 0,
  message: "",
  messageIsError: false,
  frames: 0,
  saved: [],
  thumbnails: 0,
  camera: undefined,
  virtual: undefined,
};
(globalThis as { canonApp?: AppState }).canonApp = state;

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
};

const usb = (navigator as Navigator & { usb?: BrowserUsb }).usb;
let device: UsbDevice | undefined;
let camera: Camera | undefined;
let remote: RemoteMode | undefined;
let viewfinder: AbortController | undefined;
let entries: StorageEntry[] = [];
const selected = new Set<string>();
const thumbnailUrls = new Map<string, string>();

// ---------------------------------------------------------------------------
// Messages

/** Turn whatever failed into a sentence a user can act on. */
export function explain(error: unknown): string {
  const chain: unknown[] = [];
  for (let e: unknown = error; e !== undefined && chain.length < 6; e = (e as Error).cause) {
    chain.push(e);
  }
  const text = chain.map((e) => `${(e as Error)?.name ?? ""}: ${(e as Error)?.message ?? e}`)
    .join(" / ");
  if (
    chain.some((e) => e instanceof UsbError && e.code === "NO_DEVICE") ||
    /disconnected|unplugged/i.test(text)
  ) {
    return "The camera was unplugged (or switched off). Whatever was being saved was not " +
      "saved; plug it back in and connect again.";
  }
  for (const e of chain) {
    if (!(e instanceof DOMException)) continue;
    if (e.name === "NotFoundError" && /no device selected/i.test(e.message)) {
      return "No camera was chosen. Click “Connect a camera…” and pick the Canon camera in " +
        "the browser's list (switch it on first, in playback mode).";
    }
    if (e.name === "SecurityError" && /permissions policy|disallowed/i.test(e.message)) {
      return "This page is not allowed to use USB (its permissions policy forbids it, as when " +
        "it is shown inside another site). Open it on its own, at the address `canon web` prints.";
    }
    if (e.name === "SecurityError") {
      return "The browser was refused access to the camera. On Linux, the USB device needs a " +
        "udev rule that lets your user open it (see the README: “Permissions”); elsewhere, " +
        "allow the page to use USB devices in the site settings.";
    }
    if (e.name === "NetworkError" && /claim|busy|in use/i.test(e.message)) {
      return "Another program holds the camera (gphoto2, a photo importer, or the desktop's " +
        "camera volume monitor such as gvfs-gphoto2-volume-monitor). Close it, then unplug the " +
        "camera, plug it back in and connect again.";
    }
    if (e.name === "AbortError") {
      return "The transfer was cancelled because the camera was closed.";
    }
  }
  if (error instanceof CanonError) return error.message;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function show(text: string, isError = true): void {
  const box = $("message");
  box.textContent = text;
  box.className = isError ? "" : "info";
  box.hidden = false;
  state.message = text;
  state.messageIsError = isError;
}

function clearMessage(): void {
  $("message").hidden = true;
  state.message = "";
  state.messageIsError = false;
}

// ---------------------------------------------------------------------------
// Jobs and progress

/**
 * Run a long job with the progress bar showing; errors become messages.
 *
 * @returns what `body` returned, or undefined when it failed
 */
async function job<T>(
  label: string,
  body: (progress: (done: number, total: number) => void) => Promise<T>,
): Promise<T | undefined> {
  state.busy++;
  const bar = $<HTMLProgressElement>("job-progress");
  $("job").hidden = false;
  $("job-label").textContent = label;
  $("job-figures").textContent = "";
  bar.removeAttribute("value");
  const progress = (done: number, total: number) => {
    if (total > 0) {
      bar.max = total;
      bar.value = done;
      $("job-figures").textContent = total > 4096
        ? `${(done / 1024).toFixed(0)} of ${(total / 1024).toFixed(0)} KiB`
        : `${done} of ${total}`;
    }
  };
  try {
    return await body(progress);
  } catch (error) {
    show(`${label}: ${explain(error)}`);
    if (isUnplugged(error)) void dropCamera();
    return undefined;
  } finally {
    state.busy--;
    state.jobsDone++;
    if (state.busy === 0) $("job").hidden = true;
  }
}

function isUnplugged(error: unknown): boolean {
  return explain(error).startsWith("The camera was unplugged");
}

// ---------------------------------------------------------------------------
// Connecting

/** Which call of {@link listGranted} is the newest: only it may fill the list. */
let grantedListing = 0;

async function listGranted(): Promise<void> {
  const granted = $("granted");
  const call = ++grantedListing;
  if (!usb) {
    granted.textContent = "";
    return;
  }
  const devices = await usb.getDevices();
  // A connect event during the page's first listing starts a second one: the
  // older answer must not add its buttons beside the newer one's.
  if (call !== grantedListing) return;
  granted.textContent = "";
  for (const d of devices) {
    if (d.vendorId !== CANON_VENDOR_ID) continue;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "granted";
    const other = OTHER_MODE_IDS[d.productId];
    const name = modelByProductId(d.productId)?.name ??
      (other
        ? `${other.name} (${other.mode === "ptp" ? "PTP" : "mass-storage"} mode)`
        : undefined) ??
      `Canon 0x${d.productId.toString(16)}`;
    button.textContent = `Connect ${name}`;
    button.dataset.productId = d.productId.toString(16).padStart(4, "0");
    button.addEventListener("click", () => void connect(d));
    granted.append(button);
  }
}

async function requestCamera(): Promise<void> {
  if (!usb) {
    show(
      "This browser has no WebUSB, so it cannot talk to a camera. Use Chrome, Edge or " +
        "another Chromium-based browser, on http://localhost or https:// (or try the " +
        "virtual camera).",
    );
    return;
  }
  try {
    const chosen = await usb.requestDevice({ filters: [{ vendorId: CANON_VENDOR_ID }] });
    await connect(chosen);
  } catch (error) {
    show(explain(error));
  }
}

async function connect(chosen: UsbDevice): Promise<void> {
  if (camera) await dropCamera();
  clearMessage();
  const other = OTHER_MODE_IDS[chosen.productId];
  if (other?.mode === "ptp") {
    show(
      `The ${other.name} is in PTP mode, which this app does not speak. In the camera's ` +
        "menu set the USB mode (“Communication”) to “Normal” (on some models: press a button " +
        "while plugging in, see the manual), then connect again.",
    );
    return;
  }
  if (other?.mode === "mass-storage") {
    show(`The ${other.name} shows itself as a USB disk: open it as a drive instead.`);
    return;
  }
  if (!modelByProductId(chosen.productId)) {
    show(
      `This Canon device (product id 0x${chosen.productId.toString(16)}) is not a camera ` +
        "this app knows.",
    );
    return;
  }
  const cam = await job("Connecting", () => Camera.connect(new WebUsbDevice(chosen)));
  if (!cam) {
    await chosen.close().catch(() => undefined);
    return;
  }
  device = chosen;
  camera = cam;
  state.camera = cam;
  state.connected = true;
  $("app").hidden = false;
  $("disconnect").hidden = false;
  await refreshCamera();
  await refreshCard();
}

/** Forget the camera (after an unplug, or on "Disconnect"). */
async function dropCamera(): Promise<void> {
  viewfinder?.abort();
  viewfinder = undefined;
  const cam = camera;
  camera = undefined;
  remote = undefined;
  device = undefined;
  state.camera = undefined;
  state.connected = false;
  $("disconnect").hidden = true;
  $<HTMLButtonElement>("shoot").disabled = true;
  $<HTMLButtonElement>("viewfinder").disabled = true;
  $("remote").textContent = "Start remote mode";
  // An unplugged camera cannot answer the goodbye; do not wait for it.
  if (cam) {
    await Promise.race([
      cam.close().catch(() => undefined),
      new Promise((resolve) => setTimeout(resolve, 2000)),
    ]);
  }
}

// ---------------------------------------------------------------------------
// Camera panel

function bytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(0)} KiB`;
  return `${n} B`;
}

async function refreshCamera(): Promise<void> {
  const cam = camera;
  if (!cam) return;
  await job("Reading the camera", async () => {
    const id = await cam.identify();
    $("cam-model").textContent = id.modelName;
    $<HTMLInputElement>("cam-owner").value = id.owner;
    $("cam-firmware").textContent = id.firmware;
    const power = await cam.powerStatus();
    $("cam-power").textContent = power.source === "ac"
      ? "mains adapter"
      : `battery, ${power.ok ? "good" : "low"}`;
    const info = await cam.storage.info();
    $("cam-card").textContent = `${info.drive} ${bytes(info.free)} free of ${bytes(info.capacity)}`;
    const meter = $<HTMLMeterElement>("cam-card-meter");
    meter.max = info.capacity || 1;
    meter.value = info.capacity - info.free;
    await showClock(cam);
  });
}

async function showClock(cam: Camera): Promise<void> {
  const time = await cam.time();
  const drift = Math.round((time.getTime() - Date.now()) / 1000);
  $("cam-clock").textContent = `${time.toLocaleString()} (${
    drift === 0 ? "in step" : `${Math.abs(drift)} s ${drift > 0 ? "ahead" : "behind"}`
  })`;
}

async function saveOwner(event: Event): Promise<void> {
  event.preventDefault();
  const cam = camera;
  if (!cam) return;
  const owner = $<HTMLInputElement>("cam-owner").value;
  await job("Setting the owner", async () => {
    await cam.setOwner(owner);
    const id = await cam.identify();
    $<HTMLInputElement>("cam-owner").value = id.owner;
    show(`The owner is now “${id.owner}”.`, false);
  });
}

async function syncClock(): Promise<void> {
  const cam = camera;
  if (!cam) return;
  await job("Setting the clock", async () => {
    const drift = await cam.syncClock();
    await showClock(cam);
    show(
      `The camera's clock was ${Math.abs(Math.round(drift))} s ${
        drift >= 0 ? "ahead" : "behind"
      }; it now follows this computer's.`,
      false,
    );
  });
}

// ---------------------------------------------------------------------------
// Card browser

const HAS_THUMBNAIL = /\.(JPG|JPEG|CRW|CR2|AVI|THM)$/i;

function folderOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

async function refreshCard(): Promise<void> {
  const cam = camera;
  if (!cam) return;
  const listed = await job("Listing the card", () => cam.storage.list("/", { recursive: true }));
  if (!listed) return;
  entries = listed;
  const folders = [...new Set(entries.filter((e) => !e.isDirectory).map((e) => folderOf(e.path)))]
    .sort();
  const select = $<HTMLSelectElement>("folders");
  const before = select.value;
  select.textContent = "";
  for (const folder of folders) {
    const option = document.createElement("option");
    option.value = folder;
    const count = entries.filter((e) => !e.isDirectory && folderOf(e.path) === folder).length;
    option.textContent = `${folder} (${count})`;
    select.append(option);
  }
  if (folders.includes(before)) select.value = before;
  for (const path of [...selected]) {
    if (!entries.some((e) => e.path === path)) selected.delete(path);
  }
  await renderGrid();
}

function filesInFolder(): StorageEntry[] {
  const folder = $<HTMLSelectElement>("folders").value;
  return entries.filter((e) => !e.isDirectory && folderOf(e.path) === folder);
}

async function renderGrid(): Promise<void> {
  const grid = $("grid");
  grid.textContent = "";
  const files = filesInFolder();
  const missing: { entry: StorageEntry; img: HTMLImageElement }[] = [];
  for (const entry of files) {
    const tile = document.createElement("div");
    tile.className = selected.has(entry.path) ? "tile selected" : "tile";
    tile.dataset.path = entry.path;
    tile.title = `${entry.path}\n${bytes(entry.size)}${
      entry.date ? `\n${entry.date.toLocaleString()}` : ""
    }`;
    const marks = document.createElement("span");
    marks.className = "marks";
    if (!entry.downloaded) marks.append(mark("new", "new"));
    if (entry.protected) marks.append(mark("protected", "protected"));
    let picture: HTMLElement;
    if (HAS_THUMBNAIL.test(entry.name)) {
      const img = document.createElement("img");
      img.alt = entry.name;
      const url = thumbnailUrls.get(entry.path);
      if (url) img.src = url;
      else missing.push({ entry, img });
      picture = img;
    } else {
      picture = document.createElement("div");
      picture.className = "noimage";
    }
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = `${entry.name} · ${bytes(entry.size)}`;
    tile.append(picture, marks, name);
    tile.addEventListener("click", () => {
      if (selected.has(entry.path)) selected.delete(entry.path);
      else selected.add(entry.path);
      tile.classList.toggle("selected", selected.has(entry.path));
    });
    grid.append(tile);
  }
  state.thumbnails = files.filter((f) => thumbnailUrls.has(f.path)).length;
  const cam = camera;
  if (!cam || missing.length === 0) return;
  await job("Loading thumbnails", async (progress) => {
    let done = 0;
    progress(0, missing.length);
    for (const { entry, img } of missing) {
      try {
        const jpeg = await cam.storage.thumbnail(entry.path);
        const url = URL.createObjectURL(new Blob([jpeg as BlobPart], { type: "image/jpeg" }));
        thumbnailUrls.set(entry.path, url);
        await new Promise<void>((resolve) => {
          img.onload = img.onerror = () => resolve();
          img.src = url;
        });
        state.thumbnails++;
      } catch (error) {
        if (isUnplugged(error)) throw error;
        img.replaceWith(Object.assign(document.createElement("div"), { className: "noimage" }));
      }
      progress(++done, missing.length);
    }
  });
}

function mark(kind: string, text: string): HTMLElement {
  const span = document.createElement("span");
  span.className = `mark ${kind}`;
  span.textContent = text;
  return span;
}

function chosenFiles(): StorageEntry[] {
  const files = entries.filter((e) => selected.has(e.path));
  if (files.length === 0) show("Select one or more pictures first (click them).");
  return files;
}

/** Save one card file into a folder the user picked, never replacing a file there. */
async function saveToFolder(
  cam: Camera,
  folder: DirectoryHandle,
  entry: StorageEntry,
  progress: (done: number, total: number) => void,
): Promise<boolean> {
  const exists = await folder.getFileHandle(entry.name).then(() => true, () => false);
  if (exists) return false;
  const handle = await folder.getFileHandle(entry.name, { create: true });
  try {
    // The browser writes to a swap file and puts it under the name only when closed.
    await cam.storage.download(entry.path, await handle.createWritable(), { onProgress: progress });
  } catch (error) {
    await folder.removeEntry(entry.name).catch(() => undefined);
    throw error;
  }
  return true;
}

/** Save one card file through a plain browser download, once every byte is here. */
async function saveAsDownload(
  cam: Camera,
  entry: StorageEntry,
  progress: (done: number, total: number) => void,
): Promise<void> {
  const parts: Uint8Array[] = [];
  const sink = new WritableStream<Uint8Array>({ write: (chunk) => void parts.push(chunk) });
  const result = await cam.storage.download(entry.path, sink, { onProgress: progress });
  const blob = new Blob(parts as BlobPart[], { type: "application/octet-stream" });
  if (blob.size !== result.size) {
    throw new Error(`${entry.path}: got ${blob.size} bytes of ${result.size}; nothing saved`);
  }
  offerDownload(blob, entry.name);
}

function offerDownload(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

async function downloadSelected(): Promise<void> {
  const cam = camera;
  const files = chosenFiles();
  if (!cam || files.length === 0) return;
  const picker = (globalThis as { showDirectoryPicker?: DirectoryPicker }).showDirectoryPicker;
  let folder: DirectoryHandle | undefined;
  if ($<HTMLSelectElement>("save-mode").value === "picker" && picker) {
    try {
      folder = await picker({ mode: "readwrite", id: "canon-remote" });
    } catch (error) {
      show(`No folder was chosen (${explain(error)}).`);
      return;
    }
  }
  const skipped: string[] = [];
  let saved = 0;
  for (const [i, entry] of files.entries()) {
    const ok = await job(`Downloading ${entry.name} (${i + 1} of ${files.length})`, async (p) => {
      if (folder) {
        if (!await saveToFolder(cam, folder, entry, p)) {
          skipped.push(entry.name);
          return false;
        }
      } else {
        await saveAsDownload(cam, entry, p);
      }
      state.saved.push(entry.path);
      saved++;
      if (!entry.downloaded) await cam.storage.markDownloaded(entry.path);
      return true;
    });
    if (ok === undefined) return; // the job showed why
  }
  show(
    `Saved ${saved} file${saved === 1 ? "" : "s"}${folder ? ` to ${folder.name}` : ""}.` +
      (skipped.length ? ` Not replaced (already there): ${skipped.join(", ")}.` : ""),
    false,
  );
  await refreshCard();
}

async function protectSelected(on: boolean): Promise<void> {
  const cam = camera;
  const files = chosenFiles();
  if (!cam || files.length === 0) return;
  await job(on ? "Protecting" : "Unprotecting", async (progress) => {
    for (const [i, entry] of files.entries()) {
      await cam.storage.setProtected(entry.path, on);
      progress(i + 1, files.length);
    }
  });
  await refreshCard();
}

let deleteArmed: ReturnType<typeof setTimeout> | undefined;

async function deleteSelected(): Promise<void> {
  const cam = camera;
  const files = chosenFiles();
  const button = $("delete");
  if (!cam || files.length === 0) return;
  if (deleteArmed === undefined) {
    // A second click confirms: deleting cannot be undone.
    button.textContent = `Really delete ${files.length}?`;
    deleteArmed = setTimeout(() => {
      deleteArmed = undefined;
      button.textContent = "Delete";
    }, 4000);
    return;
  }
  clearTimeout(deleteArmed);
  deleteArmed = undefined;
  button.textContent = "Delete";
  const refused: string[] = [];
  await job("Deleting", async (progress) => {
    for (const [i, entry] of files.entries()) {
      if (entry.protected) refused.push(entry.name);
      else {
        await cam.storage.delete(entry.path);
        selected.delete(entry.path);
      }
      progress(i + 1, files.length);
    }
  });
  if (refused.length) show(`Protected, so not deleted: ${refused.join(", ")}.`);
  await refreshCamera();
  await refreshCard();
}

// ---------------------------------------------------------------------------
// Remote capture and the viewfinder

type SettingKey = keyof SettingChoices;
let choices: SettingChoices | undefined;

function label(key: SettingKey, value: unknown): string {
  if (typeof value === "boolean") return value ? "on" : "off";
  if (key === "aperture") return `f/${value}`;
  if (key === "exposureCompensation") {
    const ev = Number(value);
    return `${ev > 0 ? "+" : ""}${ev} EV`;
  }
  if (key === "imageFormat" && value && typeof value === "object") {
    const f = value as { size: string; quality: string; raw: boolean };
    return f.quality === "raw" ? "RAW" : `${f.size} ${f.quality}${f.raw ? " + RAW" : ""}`;
  }
  return String(value);
}

const SETTING_NAMES: Partial<Record<SettingKey, string>> = {
  shootingMode: "Mode",
  iso: "ISO",
  aperture: "Aperture",
  shutterSpeed: "Shutter",
  exposureCompensation: "Exposure comp.",
  imageFormat: "Image",
  flash: "Flash",
  focusMode: "Focus",
  macro: "Macro",
  beep: "Beep",
  zoom: "Zoom",
};

function renderSettings(current: CaptureSettings): void {
  const form = $("settings");
  form.textContent = "";
  if (!choices) return;
  for (const key of Object.keys(SETTING_NAMES) as SettingKey[]) {
    const values = choices[key] as readonly unknown[];
    if (!values || values.length < 2) continue;
    const now = (current as unknown as Record<string, unknown>)[key];
    const field = document.createElement("label");
    field.textContent = SETTING_NAMES[key] ?? key;
    const select = document.createElement("select");
    select.name = key;
    values.forEach((value, i) => {
      const option = document.createElement("option");
      option.value = String(i);
      option.textContent = label(key, value);
      if (JSON.stringify(value) === JSON.stringify(now)) option.selected = true;
      select.append(option);
    });
    select.addEventListener("change", () => void changeSetting(key, values[Number(select.value)]));
    field.append(select);
    form.append(field);
  }
}

async function changeSetting(key: SettingKey, value: unknown): Promise<void> {
  const cam = camera;
  if (!remote || !cam) return;
  const settings = await job(
    `Setting ${SETTING_NAMES[key] ?? key}`,
    () => cam.capture.set({ [key]: value } as Parameters<Camera["capture"]["set"]>[0]),
  );
  if (settings) renderSettings(settings);
  else {
    const again = await job("Reading the settings", () => cam.capture.settings());
    if (again) renderSettings(again);
  }
}

async function toggleRemote(): Promise<void> {
  const cam = camera;
  if (!cam) return;
  if (remote) {
    viewfinder?.abort();
    const session = remote;
    remote = undefined;
    await job("Leaving remote mode", () => session.stop());
    $("remote").textContent = "Start remote mode";
    $<HTMLButtonElement>("shoot").disabled = true;
    $<HTMLButtonElement>("viewfinder").disabled = true;
    $("settings").textContent = "";
    return;
  }
  const session = await job("Entering remote mode (the lens extends)", () => cam.capture.start());
  if (!session) return;
  remote = session;
  $("remote").textContent = "Leave remote mode";
  $<HTMLButtonElement>("shoot").disabled = false;
  $<HTMLButtonElement>("viewfinder").disabled = false;
  await job("Reading the settings", async () => {
    choices = await cam.capture.choices();
    renderSettings(await cam.capture.settings());
  });
}

async function shoot(): Promise<void> {
  const cam = camera;
  if (!remote || !cam) return;
  const keep = $<HTMLInputElement>("keep-on-card").checked;
  const shot = await job(
    "Shooting",
    (progress) => cam.capture.shoot({ to: keep ? "both" : "host", onProgress: progress }),
  );
  if (!shot) return;
  if (shot.image) {
    const name = shot.path?.slice(shot.path.lastIndexOf("/") + 1) ?? "CAPTURE.JPG";
    const url = URL.createObjectURL(new Blob([shot.image as BlobPart], { type: "image/jpeg" }));
    $<HTMLImageElement>("shot").src = url;
    const link = $<HTMLAnchorElement>("shot-link");
    link.href = url;
    link.download = name;
    link.textContent = `Download ${name} (${bytes(shot.size)})`;
    link.hidden = false;
  }
  show(`Picture taken${shot.path ? `: ${shot.path}` : ""}.`, false);
  if (keep) {
    await refreshCamera();
    await refreshCard();
  }
}

async function toggleViewfinder(): Promise<void> {
  const cam = camera;
  if (viewfinder) {
    viewfinder.abort();
    viewfinder = undefined;
    return;
  }
  if (!remote || !cam) return;
  const stop = viewfinder = new AbortController();
  const canvas = $<HTMLCanvasElement>("live");
  const context = canvas.getContext("2d");
  $("viewfinder").textContent = "Stop viewfinder";
  try {
    for await (const frame of cam.capture.previews({ signal: stop.signal })) {
      const bitmap = await createImageBitmap(new Blob([frame as BlobPart], { type: "image/jpeg" }));
      context?.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      bitmap.close();
      state.frames++;
      $("frames").textContent = `${state.frames} frames`;
      if (stop.signal.aborted) break;
    }
  } catch (error) {
    if (!stop.signal.aborted) {
      show(`Viewfinder: ${explain(error)}`);
      if (isUnplugged(error)) void dropCamera();
    }
  } finally {
    if (viewfinder === stop) viewfinder = undefined;
    $("viewfinder").textContent = "Viewfinder";
  }
}

// ---------------------------------------------------------------------------
// Wire log

interface LogEntry {
  line: string;
  dump: string[];
}

const logEntries: LogEntry[] = [];
let logDirty = false;
const MAX_LOG = 400;

function onLogLine(line: string): void {
  if (line.startsWith("canon DEBUG ") && logEntries.length > 0) {
    const last = logEntries[logEntries.length - 1];
    if (last.dump.length < 200) last.dump.push(line.slice("canon DEBUG ".length));
  } else {
    logEntries.push({ line: line.replace(/^canon (INFO )?/, ""), dump: [] });
    if (logEntries.length > MAX_LOG) logEntries.splice(0, logEntries.length - MAX_LOG);
  }
  if (!logDirty) {
    logDirty = true;
    requestAnimationFrame(renderLog);
  }
}

function renderLog(): void {
  logDirty = false;
  const list = $("log");
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
  list.textContent = "";
  for (const entry of logEntries) {
    const item = document.createElement("li");
    item.textContent = entry.line;
    if (entry.dump.length) {
      item.className = "dumps";
      item.addEventListener("click", () => {
        const open = item.querySelector("pre");
        if (open) open.remove();
        else {
          const pre = document.createElement("pre");
          pre.textContent = entry.dump.join("\n");
          item.append(pre);
        }
      });
    }
    list.append(item);
  }
  if (atBottom) list.scrollTop = list.scrollHeight;
}

// ---------------------------------------------------------------------------
// Start

async function startEmulated(params: URLSearchParams): Promise<void> {
  const module = await import(new URL("./emulator.js", import.meta.url).href) as EmulatorModule;
  const options: Record<string, unknown> = {};
  const model = params.get("emulate") || params.get("model");
  if (model) options.model = model;
  // As slow as a real camera's USB 1.1 full-speed bus, unless asked (&fast).
  options.busModel = !params.has("fast");
  const virtual = module.virtualUsbDevice(options);
  state.emulated = true;
  state.virtual = virtual.camera;
  $("demo-link").textContent = "(virtual camera)";
  await connect(virtual);
}

function main(): void {
  setLogSink(onLogLine);
  setLogLevel("info");
  $("connect").addEventListener("click", () => void requestCamera());
  $("disconnect").addEventListener("click", () => void dropCamera());
  $("owner-form").addEventListener("submit", (e) => void saveOwner(e));
  $("sync-clock").addEventListener("click", () => void syncClock());
  $("folders").addEventListener("change", () => {
    selected.clear(); // what is selected is always in view
    $<HTMLInputElement>("select-all").checked = false;
    void renderGrid();
  });
  $("refresh").addEventListener("click", () => void refreshCard());
  $("select-all").addEventListener("change", (e) => {
    const on = (e.target as HTMLInputElement).checked;
    for (const entry of filesInFolder()) {
      on ? selected.add(entry.path) : selected.delete(entry.path);
    }
    void renderGrid();
  });
  $("download").addEventListener("click", () => void downloadSelected());
  $("protect").addEventListener("click", () => void protectSelected(true));
  $("unprotect").addEventListener("click", () => void protectSelected(false));
  $("delete").addEventListener("click", () => void deleteSelected());
  $("remote").addEventListener("click", () => void toggleRemote());
  $("shoot").addEventListener("click", () => void shoot());
  $("viewfinder").addEventListener("click", () => void toggleViewfinder());
  $("hexdumps").addEventListener("change", (e) => {
    setLogLevel((e.target as HTMLInputElement).checked ? "debug" : "info");
  });
  $("clear-log").addEventListener("click", () => {
    logEntries.length = 0;
    renderLog();
  });
  if (!(globalThis as { showDirectoryPicker?: unknown }).showDirectoryPicker) {
    $<HTMLSelectElement>("save-mode").value = "downloads";
  }

  const params = new URLSearchParams(location.search);
  if (params.has("emulate")) {
    void startEmulated(params).catch((error) => show(`The virtual camera: ${explain(error)}`));
    return;
  }
  if (!usb) {
    show(
      "This browser has no WebUSB (navigator.usb), so it cannot talk to a camera. Use Chrome, " +
        "Edge or another Chromium-based browser on http://localhost or https://, or try the " +
        "virtual camera.",
    );
    $<HTMLButtonElement>("connect").disabled = true;
    return;
  }
  usb.addEventListener("connect", () => void listGranted().catch(() => undefined));
  usb.addEventListener("disconnect", (event) => {
    const gone = (event as Event & { device?: UsbDevice }).device;
    void listGranted().catch(() => undefined);
    if (gone && gone === device) {
      show(
        "The camera was unplugged (or switched off). Whatever was being saved was not saved; " +
          "plug it back in and connect again.",
      );
      void dropCamera();
    }
  });
  listGranted().catch((error) => show(explain(error)));
}

main();
