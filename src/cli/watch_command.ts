/**
 * `canon watch`: wait for a camera, download what is new, and wait for the
 * next one, like a photo importer.
 *
 * @module
 */

import { type CameraInfo, listCameras } from "../camera/discovery.ts";
import { modelByName } from "../protocol/models.ts";
import { waitForCamera } from "../camera/wait_for_camera.ts";
import type { CommandContext, CommandDef } from "./command.ts";
import { parseCameraChoice } from "./connect.ts";
import { UsageError } from "./exit.ts";
import { MAX_TIMER_MS, parseCount } from "./numbers.ts";
import { FILENAME_OPTIONS, filenameOption } from "./filename_pattern.ts";
import { afterDownload, EXEC_OPTION } from "./hooks.ts";
import {
  batchExit,
  batchJson,
  downloadFiles,
  filesOf,
  isHousekeeping,
  printDownloads,
} from "./storage_commands.ts";

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Whether a camera on the bus is the one the global options ask for. */
function wanted(context: CommandContext, camera: CameraInfo): boolean {
  const { options } = context;
  if (!camera.supported && !(options.allowUnknown && camera.mode === "unknown")) return false;
  if (
    options.port && (camera.bus !== options.port.bus || camera.address !== options.port.address)
  ) {
    return false;
  }
  if (options.camera !== undefined) {
    const choice = parseCameraChoice(options.camera);
    const productId = choice.productId ?? modelByName(choice.model!)?.productId;
    if (camera.productId !== productId) return false;
  }
  return true;
}

async function present(context: CommandContext): Promise<CameraInfo | undefined> {
  return (await listCameras()).find((c) => wanted(context, c));
}

/** `canon watch [-o DIR] [--once]`. */
export const watchCommand: CommandDef = {
  name: "watch",
  usage: "[-o DIR] [--once] [--interval MS] [--tree] [--keep-new]",
  summary: "wait for a camera, download its new files, mark them downloaded; repeat",
  details:
    "A local file that is the same photo (size and date) is left alone; another photo of the\n" +
    "same name is saved as NAME-1.EXT. Each file is reported as it completes.\n" +
    "Looks for the camera every --interval milliseconds (default 1000). After a camera is\n" +
    "done, waits for it to go away and for the next one, until Ctrl+C (or --once).\n" +
    "The virtual camera (--emulate) is connected at once and watched once.",
  options: {
    output: {
      type: "string",
      short: "o",
      value: "DIR",
      help: "where to put the files (default: .)",
    },
    once: { type: "boolean", help: "stop after the first camera" },
    interval: {
      type: "string",
      value: "MS",
      help: "how often to look for a camera (default 1000)",
    },
    tree: { type: "boolean", help: "keep the card's directories below DIR" },
    "keep-new": { type: "boolean", help: "do not clear the camera's new mark after downloading" },
    "keep-going": { type: "boolean", help: "go on with the next file when one fails" },
    "all-files": {
      type: "boolean",
      help: "include the camera's housekeeping files (.CTG, .MRK, .THM)",
    },
    ...FILENAME_OPTIONS,
    ...EXEC_OPTION,
  },
  async run(context, args) {
    const filename = filenameOption(args.values);
    const interval = args.values.interval === undefined
      ? 1000
      : parseCount(args.values.interval as string, "--interval", {
        min: 50,
        max: MAX_TIMER_MS,
        unit: "ms",
        command: "watch",
      });
    if (args.positionals.length) throw new UsageError("watch takes no PATH", "watch");
    const directory = (args.values.output as string | undefined) ?? ".";
    const virtual = context.options.emulate !== undefined ||
      context.options.emulateUsb !== undefined;
    for (;;) {
      if (!virtual && !(await present(context))) {
        context.note("watch: waiting for a camera (Ctrl+C to stop)");
        const { options } = context;
        if (options.camera === undefined && options.port === undefined && !options.allowUnknown) {
          // libusb hot-plug where there is one
          await waitForCamera({ interval, signal: context.signal });
        } else {
          while (!(await present(context))) await sleep(interval);
        }
      }
      const cam = await context.camera();
      context.note(
        `watch: ${cam.modelName} (${context.connection?.label}), owner ${cam.owner || "-"}`,
      );
      const fresh = (await filesOf(cam, ["/"])).filter((f) =>
        !f.downloaded && (args.values["all-files"] || !isHousekeeping(f))
      );
      const after = afterDownload(context, cam, args.values);
      await Deno.mkdir(directory, { recursive: true });
      const keepGoing = Boolean(args.values["keep-going"]);
      const result = await downloadFiles(context, cam, fresh, {
        directory,
        tree: Boolean(args.values.tree),
        skipExisting: true,
        overwrite: false,
        markDownloaded: !args.values["keep-new"],
        keepGoing,
        signal: context.signal,
        filename,
        afterFile: after.afterFile,
      });
      const hookCode = await after.finish();
      if (context.json) {
        context.io.write(
          JSON.stringify({ event: "summary", camera: cam.modelName, ...batchJson(result) }) + "\n",
        );
      } else if (fresh.length === 0) {
        context.print("No new files.");
      } else {
        printDownloads(context, result);
      }
      const code = batchExit(result, keepGoing);
      await context.close();
      if (code !== 0) return code;
      if (virtual || args.values.once) return hookCode;
      context.note("watch: done; waiting for the camera to go away");
      while (await present(context)) await sleep(interval);
    }
  },
};
