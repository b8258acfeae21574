/**
 * Build the web app (see `web/build.ts`) into a directory, default `web/dist`:
 *
 *     deno run --allow-read --allow-write --allow-run scripts/build_web.ts [DIR]
 *
 * @module
 */

import { buildWeb } from "../web/build.ts";

const directory = Deno.args[0] ??
  decodeURIComponent(new URL("../web/dist", import.meta.url).pathname);
const built = await buildWeb(directory);
console.log(`${built.directory}: ${built.files.join(", ")}`);
