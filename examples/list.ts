/**
 * List the memory card: every file with its size and date, marked when new
 * (not downloaded yet) or protected.
 *
 *     deno run --allow-all examples/list.ts [PATH] [--emulate]
 *
 * @module
 */

import { args, openCamera } from "./_connect.ts";

await using cam = await openCamera();
for await (const entry of cam.storage.walk(args[0] ?? "/")) {
  if (entry.isDirectory) {
    console.log(`${entry.path}/`);
    continue;
  }
  const marks = [entry.downloaded ? "" : "new", entry.protected ? "protected" : ""].filter(Boolean);
  console.log(
    `  ${entry.name.padEnd(13)} ${String(entry.size).padStart(9)} B  ` +
      `${entry.date?.toLocaleString() ?? "-"}  ${marks.join(" ")}`.trimEnd(),
  );
}
