/**
 * Download every file of the card into a directory, keeping the card's
 * folders, with progress. Files already there are left alone.
 *
 *     deno run --allow-all examples/download_all.ts [DIR] [--emulate]
 *
 * @module
 */

import { join } from "node:path";
import { args, openCamera } from "./_connect.ts";

const target = args[0] ?? "photos";
await using cam = await openCamera();
const files = (await cam.storage.list("/", { recursive: true })).filter((e) => !e.isDirectory);
let total = 0;
for (const file of files) {
  const local = join(target, ...file.path.split("/"));
  await Deno.mkdir(join(local, ".."), { recursive: true });
  try {
    const { size } = await cam.storage.download(file.path, local, {
      onProgress: (done, size) => {
        if (Deno.stdout.isTerminal()) {
          Deno.stdout.writeSync(new TextEncoder().encode(`\r${file.name} ${done}/${size}`));
        }
      },
    });
    if (!file.downloaded) await cam.storage.markDownloaded(file.path);
    total += size;
    console.log(`${Deno.stdout.isTerminal() ? "\r" : ""}${file.path} -> ${local} (${size} B)`);
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    console.log(`${file.path}: ${local} exists, skipped`);
  }
}
console.log(`${files.length} files, ${total} bytes downloaded into ${target}/`);
