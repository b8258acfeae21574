/**
 * The REPL helper: `deno task repl` opens the Deno REPL with `cam` connected
 * (the camera on USB, or the virtual one when none is attached, saying
 * which) and short helpers for the common jobs. `help()` lists them.
 *
 * `CANON_EMULATE=1` (or a model name, e.g. `CANON_EMULATE="EOS 20D"`) makes
 * it use the virtual camera even when a real one is attached.
 *
 * @module
 */

import type { DownloadResult, StorageEntry } from "../camera/storage.ts";
import type { ShootOptions, Shot } from "../camera/capture.ts";
import { VirtualCamera } from "../emulator/host/virtual_camera.ts";
import { CameraNotFoundError } from "../protocol/errors.ts";
import { type LogLevel, setLogLevel } from "../protocol/log.ts";
import { LibusbNotFoundError } from "../usb/errors.ts";
import { Camera } from "../camera/camera.ts";
import { connectCamera, type Connection, connectVirtual } from "./connect.ts";
import { formatDate, table } from "./format.ts";
import { escapeControls } from "./command.ts";

/** What {@link startRepl} puts in the REPL's global scope. */
export interface ReplScope {
  /** The connected camera. */
  cam: Camera;
  /** The `Camera` class (for `Camera.open()`, `Camera.connect()`). */
  Camera: typeof Camera;
  /** The `VirtualCamera` class. */
  VirtualCamera: typeof VirtualCamera;
  /** Print a directory of the card as a table. */
  ls(path?: string, options?: { recursive?: boolean }): Promise<void>;
  /** Download a file into a local file or directory. */
  get(path: string, destination?: string): Promise<DownloadResult>;
  /** Take a picture (kept on the card unless `options.to` says otherwise). */
  shoot(options?: ShootOptions): Promise<Shot>;
  /** Turn the wire trace on (INFO), off, or to "debug" (hex dumps too). */
  trace(on?: boolean | "debug"): LogLevel;
  /** List the helpers. */
  help(): void;
  /** Close the camera. */
  disconnect(): Promise<void>;
}

const HELP = [
  "cam                    the connected camera: await cam.identify(), cam.storage.info(), ...",
  'await ls(path = "/", { recursive })   print a directory of the card',
  'await get(path, dest = ".")          download a file (dest: a file or a directory)',
  'await shoot({ to: "both", destination: "." })  take a picture (default: kept on the card)',
  "trace(on = true)       wire trace of every command and transfer; trace('debug') adds hex",
  "help()                 this list",
  "await disconnect()     close the camera",
  "Camera, VirtualCamera  the classes (await Camera.open(), new VirtualCamera({ model }))",
];

/** Options of {@link startRepl}. */
export interface ReplOptions {
  /** Use this virtual camera (instead of a camera on USB, or a new virtual one). */
  virtualCamera?: VirtualCamera;
}

async function connect(
  write: (line: string) => void,
  options: ReplOptions,
): Promise<Connection> {
  if (options.virtualCamera) {
    const connection = await connectVirtual({}, options.virtualCamera);
    write(`cam: ${connection.camera.modelName}, the virtual camera given to startRepl`);
    return connection;
  }
  const forced = Deno.env.get("CANON_EMULATE");
  if (forced === undefined || forced === "") {
    try {
      const connection = await connectCamera({});
      write(`cam: ${connection.camera.modelName} at ${connection.label}`);
      return connection;
    } catch (error) {
      if (!(error instanceof CameraNotFoundError || error instanceof LibusbNotFoundError)) {
        throw error;
      }
    }
  }
  const model = forced && forced !== "1" ? forced : "";
  const connection = await connectVirtual({ emulate: model });
  write(
    `cam: ${connection.camera.modelName}, the virtual camera (${
      forced ? "CANON_EMULATE is set" : "no camera is connected"
    })`,
  );
  return connection;
}

/**
 * Connect the camera and put `cam` and the helpers into `scope` (the REPL's
 * `globalThis`).
 *
 * Everything the helpers print is shown with its control characters escaped
 * (`\u001b`): a file name or model name from the camera cannot clear or
 * retitle the terminal.
 *
 * @param scope where the names go
 * @param sink where messages go (default: console.log)
 * @param options a virtual camera of your own
 * @returns the scope's new names
 * @example
 * ```ts ignore
 * // deno repl --allow-all --eval "const { startRepl } = await import('./src/cli/repl.ts'); await startRepl(globalThis);"
 * ```
 */
export async function startRepl(
  scope: object,
  sink: (line: string) => void = (line) => console.log(line),
  options: ReplOptions = {},
): Promise<ReplScope> {
  const write = (line: string) => sink(escapeControls(line));
  const connection = await connect(write, options);
  const helpers: ReplScope = {
    get cam() {
      return connection.camera;
    },
    Camera,
    VirtualCamera,
    async ls(path = "/", options = {}) {
      const entries: StorageEntry[] = await connection.camera.storage.list(path, options);
      const rows = entries.map((e) => [
        options.recursive ? e.path : e.name + (e.isDirectory ? "/" : ""),
        e.isDirectory ? "-" : String(e.size),
        formatDate(e.date),
        [e.protected ? "protected" : "", !e.isDirectory && !e.downloaded ? "new" : ""]
          .filter(Boolean).join(", "),
      ]);
      for (const line of table(rows, [1])) write(line);
    },
    get(path, destination = ".") {
      return connection.camera.storage.download(path, destination);
    },
    shoot(options = {}) {
      return connection.camera.capture.shoot(options);
    },
    trace(on = true) {
      const level: LogLevel = on === "debug" ? "debug" : on ? "info" : "warn";
      setLogLevel(level);
      return level;
    },
    help() {
      for (const line of HELP) write(line);
    },
    async disconnect() {
      await connection.close();
    },
  };
  Object.defineProperty(scope, "cam", {
    get: () => connection.camera,
    configurable: true,
    enumerable: true,
  });
  for (const [name, value] of Object.entries(helpers)) {
    if (name !== "cam") {
      Object.defineProperty(scope, name, { value, configurable: true, writable: true });
    }
  }
  write(
    'Helpers: ls(), get(), shoot(), trace(), help(). Try: await ls("/DCIM", { recursive: true })',
  );
  return helpers;
}
