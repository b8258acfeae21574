/**
 * Shared by the examples: which camera to use. Every example runs against
 * the camera on USB, or with `--emulate` (`--emulate=MODEL`) against the
 * virtual camera, in this process:
 *
 *     deno run --allow-all examples/identify.ts
 *     deno run --allow-all examples/identify.ts --emulate
 *
 * @module
 */

import { Camera } from "@canon-remote/canon-remote";
import { VirtualCamera } from "@canon-remote/canon-remote/emulator";

const flag = Deno.args.find((a) => a === "--emulate" || a.startsWith("--emulate="));

/** Whether the example runs against the virtual camera. */
export const emulate: boolean = flag !== undefined;

/** The example's own arguments (without `--emulate`). */
export const args: string[] = Deno.args.filter((a) => a !== flag);

/**
 * The camera: the first one on USB, or the virtual one with `--emulate`.
 *
 * @returns the connected camera; `await using` closes it
 */
export async function openCamera(): Promise<Camera> {
  if (!flag) return await Camera.open();
  const model = flag.includes("=") ? flag.slice(flag.indexOf("=") + 1) : undefined;
  return await Camera.connect(new VirtualCamera(model ? { model } : {}));
}
