// A small DevTools-protocol client for the browser tier: start headless
// Chromium (Debian's package), drive one page over a WebSocket, take
// screenshots and decode them (PNG) to check what a person would see.

/** Where Debian's chromium keeps its binary (the launcher script prints noise). */
const CANDIDATES = ["/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser"];

/** The Chromium binary, or undefined when none is installed. */
export async function findChromium(): Promise<string | undefined> {
  for (const path of CANDIDATES) {
    try {
      if ((await Deno.stat(path)).isFile) return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Options of {@link launchChromium}. */
export interface LaunchOptions {
  /** The first page to load. */
  url: string;
  /** Extra environment (e.g. the umockdev testbed's). */
  env?: Record<string, string>;
  /** Variables to remove from the inherited environment. */
  unsetEnv?: string[];
  /** Extra command-line switches. */
  args?: string[];
}

interface CdpMessage {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
}

/** How long one DevTools command may take before the test fails instead of hanging. */
const COMMAND_TIMEOUT_MS = 60_000;
/** How long a fresh Chromium may take to load its first page before it is started again. */
const FIRST_PAGE_MS = 15_000;
/** Starts tried before {@link Browser.launch} gives up. */
const LAUNCH_ATTEMPTS = 4;

/**
 * The fields of `/proc/PID/stat` after the command name (which may hold
 * spaces and parentheses): index 0 is field 3 (state), 3 is the session id,
 * 11 and 12 are utime and stime.
 *
 * @param pid the process
 * @returns its fields from the third on
 */
export async function procStat(pid: number): Promise<string[]> {
  return statFields(await Deno.readTextFile(`/proc/${pid}/stat`));
}

function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** One process of a Chromium, as {@link processTree} finds it. */
interface ChromiumProcess {
  pid: number;
  cmdline: string;
}

/**
 * The processes of one Chromium: every process whose session is the browser's
 * (it is started as a session leader through `setsid`) or whose command line
 * names its private profile. Chromium's helpers (zygotes, GPU, renderers)
 * outlive a killed browser for a while, and a forked child that never reached
 * `exec` (see {@link Browser.launch}) lives on until killed; each of them
 * holds the browser's stderr open.
 */
function processTree(sessionId: number, profile: string): ChromiumProcess[] {
  const found: ChromiumProcess[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    const pid = Number(entry.name);
    if (!Number.isInteger(pid) || pid === Deno.pid) continue;
    try {
      const session = Number(statFields(Deno.readTextFileSync(`/proc/${pid}/stat`))[3]);
      const cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
      if (session === sessionId || cmdline.includes(profile)) found.push({ pid, cmdline });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/** A headless Chromium with one page, driven through the DevTools protocol. */
export class Browser implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #profile: string;
  #ws: WebSocket | undefined;
  #next = 0;
  readonly #pending = new Map<number, (message: CdpMessage) => void>();
  /** Console lines and uncaught exceptions of the page, in order. */
  readonly console: string[] = [];
  readonly #listeners = new Set<(message: CdpMessage) => void>();
  readonly #stderrChunks: string[] = [];
  readonly #stderrReader: ReadableStreamDefaultReader<string>;
  readonly #stderrDone: Promise<void>;

  private constructor(child: Deno.ChildProcess, profile: string) {
    this.#child = child;
    this.#profile = profile;
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    this.#stderrReader = reader;
    this.#stderrDone = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        this.#stderrChunks.push(value);
      }
    })().catch(() => undefined);
  }

  /** The browser's process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** What Chromium has written to stderr so far (its last 4 000 characters). */
  get stderr(): string {
    return this.#stderrChunks.join("").slice(-4000);
  }

  /**
   * Start Chromium headless on a fresh profile and attach to its page, once the
   * page has loaded.
   *
   * A start is tried again when the page does not load: under
   * `libumockdev-preload` (the WebUSB tests) Chromium's browser process, which
   * forks its helpers from a busy multi-threaded process, now and then forks
   * while another of its threads holds the preload's path lock
   * (`trap_path_lock`, taken by every wrapped `open`/`stat`). The child then
   * waits for that lock forever in `open64` before it can `exec`, the helper
   * never starts and the page never loads. Seen here in about 1 start in 10
   * (3 of 30 in a loop, `gdb` on the stuck child); it is umockdev's, not the
   * web app's, and a new start does not inherit it.
   *
   * @param binary the Chromium binary
   * @param options page, environment, switches
   */
  static async launch(binary: string, options: LaunchOptions): Promise<Browser> {
    const failures: string[] = [];
    for (let attempt = 1; attempt <= LAUNCH_ATTEMPTS; attempt++) {
      const browser = await Browser.#start(binary, options);
      try {
        await browser.#attach(options.url);
        await browser.#waitForFirstPage(options.url);
        if (failures.length > 0) {
          console.warn(`Chromium started on attempt ${attempt}; before: ${failures.join("; ")}`);
        }
        return browser;
      } catch (error) {
        const stuck = browser.#stuckForks();
        failures.push(
          `${(error as Error).message}${stuck ? ` (${stuck})` : ""}`,
        );
        await browser.close();
        if (attempt === LAUNCH_ATTEMPTS) {
          throw new Error(
            `Chromium did not start in ${LAUNCH_ATTEMPTS} attempts: ${failures.join("; ")}\n` +
              `chromium said:\n${browser.stderr}`,
          );
        }
      }
    }
    throw new Error("unreachable");
  }

  static async #start(binary: string, options: LaunchOptions): Promise<Browser> {
    const profile = await Deno.makeTempDir({ prefix: "canon-chromium-" });
    const env: Record<string, string> = { ...Deno.env.toObject(), ...options.env };
    for (const name of options.unsetEnv ?? []) delete env[name];
    // setsid makes the browser a session leader (same pid: it execs in place),
    // so that close() finds and kills every process it started.
    const child = new Deno.Command("setsid", {
      args: [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        `--user-data-dir=${profile}`,
        "--remote-debugging-port=0",
        ...(options.args ?? []),
        options.url,
      ],
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    return new Browser(child, profile);
  }

  /** Wait until the first page has committed and loaded (bounded: see launch). */
  async #waitForFirstPage(url: string): Promise<void> {
    const base = JSON.stringify(url.split("?")[0]);
    const deadline = Date.now() + FIRST_PAGE_MS;
    let last: unknown;
    while (Date.now() < deadline) {
      last = await this.evaluate(
        `location.href.startsWith(${base}) && document.readyState === "complete"`,
        false,
        5_000,
      ).catch((e) => (e as Error).message);
      if (last === true) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(
      `the page did not load within ${FIRST_PAGE_MS} ms (last: ${JSON.stringify(last)})`,
    );
  }

  /** A description of this browser's forked children stuck before exec, if any. */
  #stuckForks(): string {
    // A fork that has not exec'd still has the browser's own command line.
    const stuck = processTree(this.#child.pid, this.#profile)
      .filter((p) =>
        p.pid !== this.#child.pid && !p.cmdline.includes("--type=") &&
        p.cmdline.includes(this.#profile)
      )
      .map((p) => p.pid);
    return stuck.length > 0
      ? `${stuck.length} forked child(ren) of the browser stuck before exec: ${stuck.join(", ")}`
      : "";
  }

  async #attach(url: string): Promise<void> {
    // With --remote-debugging-port=0 Chromium writes the port it chose here.
    let port = "";
    for (let i = 0; i < 150 && !port; i++) {
      try {
        port = (await Deno.readTextFile(`${this.#profile}/DevToolsActivePort`)).split("\n")[0];
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    if (!port) throw new Error("Chromium did not open its DevTools port within 15 s");
    let target: { type: string; url: string; webSocketDebuggerUrl: string } | undefined;
    for (let i = 0; i < 100 && !target; i++) {
      const list = await fetch(`http://127.0.0.1:${port}/json/list`, {
        signal: AbortSignal.timeout(2_000),
      }).then((r) => r.json())
        .catch(() => []) as { type: string; url: string; webSocketDebuggerUrl: string }[];
      target = list.find((t) => t.type === "page" && t.url.startsWith(url.split("?")[0]));
      if (!target) await new Promise((r) => setTimeout(r, 100));
    }
    if (!target) throw new Error(`no page target for ${url}`);
    const ws = new WebSocket(target.webSocketDebuggerUrl);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error("the DevTools WebSocket did not open")),
        10_000,
      );
      ws.onopen = () => {
        clearTimeout(timer);
        resolve();
      };
      ws.onerror = (e) => {
        clearTimeout(timer);
        reject(new Error(`DevTools WebSocket: ${(e as ErrorEvent).message}`));
      };
    });
    ws.onmessage = (event) => {
      const message = JSON.parse(event.data) as CdpMessage;
      if (message.id !== undefined) {
        this.#pending.get(message.id)?.(message);
        this.#pending.delete(message.id);
        return;
      }
      if (message.method === "Runtime.consoleAPICalled") {
        const args = (message.params?.args ?? []) as { value?: unknown; description?: string }[];
        this.console.push(args.map((a) => a.value ?? a.description ?? "").join(" "));
      } else if (message.method === "Runtime.exceptionThrown") {
        const details = message.params?.exceptionDetails as {
          exception?: { description?: string };
          text?: string;
        };
        this.console.push(`UNCAUGHT ${details?.exception?.description ?? details?.text}`);
      }
      for (const listener of this.#listeners) listener(message);
    };
    ws.onclose = () => {
      for (const resolve of this.#pending.values()) {
        resolve({ error: { message: "the DevTools connection closed" } });
      }
      this.#pending.clear();
    };
    this.#ws = ws;
    await this.send("Runtime.enable");
    await this.send("Page.enable");
  }

  /**
   * Send one DevTools command and wait for its answer.
   *
   * @param method e.g. "Runtime.evaluate"
   * @param params its parameters
   * @param timeoutMs how long the answer may take (a test fails, never hangs)
   * @returns its result
   */
  send(
    method: string,
    params: Record<string, unknown> = {},
    timeoutMs = COMMAND_TIMEOUT_MS,
  ): Promise<Record<string, unknown>> {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Error(`${method}: the DevTools connection is closed`));
    }
    const id = ++this.#next;
    ws.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${method}: no answer from Chromium within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, (message) => {
        clearTimeout(timer);
        if (message.error) reject(new Error(`${method}: ${message.error.message}`));
        else resolve(message.result ?? {});
      });
    });
  }

  /**
   * Evaluate an expression in the page (awaiting a promise) and return its value.
   *
   * @param expression JavaScript
   * @param userGesture run it as if the user had clicked (for requestDevice, downloads)
   * @param timeoutMs how long the answer may take
   * @returns the value, as JSON carries it
   */
  async evaluate<T = unknown>(
    expression: string,
    userGesture = false,
    timeoutMs = COMMAND_TIMEOUT_MS,
  ): Promise<T> {
    const result = await this.send("Runtime.evaluate", {
      expression,
      awaitPromise: true,
      returnByValue: true,
      userGesture,
    }, timeoutMs);
    const exception = result.exceptionDetails as
      | { exception?: { description?: string }; text?: string }
      | undefined;
    if (exception) {
      throw new Error(`in the page: ${exception.exception?.description ?? exception.text}`);
    }
    return (result.result as { value: T }).value;
  }

  /**
   * Wait until `expression` is truthy in the page.
   *
   * @param expression JavaScript
   * @param what for the error message
   * @param timeoutMs how long
   * @returns the truthy value
   */
  async waitFor<T = unknown>(expression: string, what: string, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      last = await this.evaluate(expression).catch((e) => `error: ${e.message}`);
      if (last && !(typeof last === "string" && last.startsWith("error: "))) return last as T;
      if (Date.now() > deadline) {
        const state = await this.evaluate(
          "JSON.stringify({message: canonApp?.message, busy: canonApp?.busy})",
        ).catch(() => "?");
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)}; ` +
            `page: ${state}; console: ${this.console.slice(-8).join(" | ")})`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * The next DevTools event named `method`.
   *
   * @param method e.g. "DeviceAccess.deviceRequestPrompted"
   * @param timeoutMs how long to wait
   * @returns its parameters
   */
  nextEvent(method: string, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#listeners.delete(listener);
        reject(new Error(`no ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (message: CdpMessage) => {
        if (message.method !== method) return;
        clearTimeout(timer);
        this.#listeners.delete(listener);
        resolve(message.params ?? {});
      };
      this.#listeners.add(listener);
    });
  }

  /** Let downloads go to `directory` without asking. */
  async allowDownloads(directory: string): Promise<void> {
    await this.send("Browser.setDownloadBehavior", {
      behavior: "allow",
      downloadPath: directory,
      eventsEnabled: true,
    });
  }

  /**
   * A PNG screenshot of the viewport.
   *
   * @param scale below 1 for a smaller picture (for the README)
   */
  async screenshot(scale = 1): Promise<Uint8Array> {
    const size = scale === 1 ? undefined : await this.evaluate<{ width: number; height: number }>(
      "({ width: innerWidth, height: innerHeight })",
    );
    const result = await this.send("Page.captureScreenshot", {
      format: "png",
      ...(size ? { clip: { x: 0, y: 0, ...size, scale } } : {}),
    });
    return Uint8Array.from(atob(result.data as string), (c) => c.charCodeAt(0));
  }

  /** Stop the browser (by its own pid) and remove its profile. Idempotent. */
  async close(): Promise<void> {
    try {
      this.#ws?.close();
    } catch {
      // already closed
    }
    // The browser and everything it started: helpers, and any fork stuck before exec.
    const tree = processTree(this.#child.pid, this.#profile).map((p) => p.pid);
    for (const pid of new Set([this.#child.pid, ...tree])) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    const bounded = async (promise: Promise<unknown>, ms: number) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([promise, new Promise((r) => timer = setTimeout(r, ms))]);
      clearTimeout(timer);
    };
    await bounded(this.#child.status, 5_000);
    // A helper that escaped the kill must not hold the test up on its stderr.
    await bounded(this.#stderrDone, 2_000);
    await this.#stderrReader.cancel().catch(() => undefined);
    await Deno.remove(this.#profile, { recursive: true }).catch(() => undefined);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

// ---------------------------------------------------------------------------
// PNG decoding (8-bit RGB/RGBA, what Chromium's screenshots are)

/** A decoded image: RGBA bytes, row by row. */
export interface Rgba {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * Decode a PNG (8-bit truecolour, with or without alpha, not interlaced).
 *
 * @param png the file
 * @returns its pixels
 */
export async function decodePng(png: Uint8Array): Promise<Rgba> {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (!signature.every((b, i) => png[i] === b)) throw new Error("not a PNG");
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let width = 0, height = 0, colourType = 0;
  const idat: Uint8Array[] = [];
  for (let offset = 8; offset < png.length;) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...png.subarray(offset + 4, offset + 8));
    const body = png.subarray(offset + 8, offset + 8 + length);
    if (type === "IHDR") {
      const h = new DataView(body.buffer, body.byteOffset, body.byteLength);
      width = h.getUint32(0);
      height = h.getUint32(4);
      colourType = body[9];
      if (body[8] !== 8 || body[12] !== 0 || (colourType !== 2 && colourType !== 6)) {
        throw new Error(`unsupported PNG (depth ${body[8]}, colour type ${colourType})`);
      }
    } else if (type === "IDAT") idat.push(body);
    offset += 12 + length;
  }
  const compressed = new Blob(idat as BlobPart[]).stream()
    .pipeThrough(new DecompressionStream("deflate"));
  const raw = new Uint8Array(await new Response(compressed).arrayBuffer());
  const channels = colourType === 6 ? 4 : 3;
  const stride = width * channels;
  const pixels = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = pixels.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? pixels.subarray((y - 1) * stride, y * stride) : new Uint8Array(stride);
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? out[x - channels] : 0;
      const b = up[x];
      const c = x >= channels ? up[x - channels] : 0;
      let predictor = 0;
      if (filter === 1) predictor = a;
      else if (filter === 2) predictor = b;
      else if (filter === 3) predictor = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[x] = (line[x] + predictor) & 0xff;
    }
  }
  const data = new Uint8Array(width * height * 4);
  for (let i = 0, j = 0; i < width * height; i++, j += channels) {
    data[i * 4] = pixels[j];
    data[i * 4 + 1] = pixels[j + 1];
    data[i * 4 + 2] = pixels[j + 2];
    data[i * 4 + 3] = channels === 4 ? pixels[j + 3] : 255;
  }
  return { width, height, data };
}

/**
 * How varied a region of an image is: the number of distinct colours
 * (quantised to 4 bits a channel) and the standard deviation of luminance.
 *
 * @param image the pixels
 * @param region the rectangle, in pixels
 * @returns the figures
 */
export function pixelVariety(
  image: Rgba,
  region: { x: number; y: number; width: number; height: number },
): { colours: number; luminanceSpread: number } {
  const colours = new Set<number>();
  let sum = 0, sumSquares = 0, n = 0;
  const x1 = Math.min(image.width, Math.round(region.x + region.width));
  const y1 = Math.min(image.height, Math.round(region.y + region.height));
  for (let y = Math.max(0, Math.round(region.y)); y < y1; y++) {
    for (let x = Math.max(0, Math.round(region.x)); x < x1; x++) {
      const i = (y * image.width + x) * 4;
      const [r, g, b] = [image.data[i], image.data[i + 1], image.data[i + 2]];
      colours.add(((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4));
      const l = 0.299 * r + 0.587 * g + 0.114 * b;
      sum += l;
      sumSquares += l * l;
      n++;
    }
  }
  const mean = n ? sum / n : 0;
  return {
    colours: colours.size,
    luminanceSpread: n ? Math.sqrt(Math.max(0, sumSquares / n - mean * mean)) : 0,
  };
}
