/**
 * Save the thumbnail of every picture and movie (the EXIF thumbnail of a
 * JPEG, the .THM of a CRW or AVI) as a small JPEG.
 *
 *     deno run --allow-all examples/thumbnails.ts [DIR] [--emulate]
 *
 * @module
 */

import { join } from "node:path";
import { args, openCamera } from "./_connect.ts";

const target = args[0] ?? "thumbnails";
await Deno.mkdir(target, { recursive: true });
await using cam = await openCamera();
for await (const entry of cam.storage.walk("/DCIM")) {
  if (!/\.(JPG|CRW|CR2|AVI)$/.test(entry.name)) continue;
  const jpeg = await cam.storage.thumbnail(entry.path);
  const file = join(target, `thumb_${entry.name.replace(/\.\w+$/, "")}.jpg`);
  await Deno.writeFile(file, jpeg);
  console.log(`${entry.path}: ${jpeg.length} B thumbnail -> ${file}`);
}
