// Shared by the cli_features_* tests: the `canon` command's main() run in
// this process against one virtual camera, as a user types it.
import { VirtualCamera } from "../src/emulator/mod.ts";
import { connectVirtual } from "../src/cli/connect.ts";
import { main } from "../src/cli/main.ts";

/** What one command printed and how it ended. */
export interface Run {
  code: number;
  out: string;
  err: string;
}

/** A `canon` bound to `vc` (standard error not a terminal). */
export function canonOn(vc: VirtualCamera): (...args: string[]) => Promise<Run> {
  return async (...args) => {
    let out = "";
    let err = "";
    const code = await main(args, {
      io: { write: (t) => out += t, writeError: (t) => err += t, errorIsTerminal: false },
      connect: (selection) => connectVirtual(selection, vc),
    });
    return { code, out, err };
  };
}

/** Run `body` with a virtual camera, its `canon` and a temporary directory. */
export async function withCamera(
  body: (
    canon: (...args: string[]) => Promise<Run>,
    vc: VirtualCamera,
    dir: string,
  ) => Promise<void>,
  options: ConstructorParameters<typeof VirtualCamera>[0] = {},
): Promise<void> {
  await using vc = new VirtualCamera({ captureLatencyMs: 20, ...options });
  const dir = await Deno.makeTempDir({ prefix: "canon-features-" });
  try {
    await body(canonOn(vc), vc, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Card paths of the virtual camera's files. */
export function cardFiles(vc: VirtualCamera): string[] {
  const card = vc.card as unknown as { snapshot(): { path: string; isDirectory: boolean }[] };
  return card.snapshot().filter((e) => !e.isDirectory).map((e) => e.path);
}
