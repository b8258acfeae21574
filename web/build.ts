/**
 * Build the web app into a directory: `index.html`, `style.css`, and three ES
 * modules made by `deno bundle --platform browser` with `web/import_map.json`
 * (which swaps the host-only modules for `web/platform/`):
 *
 * - `canon-remote.js`: the public API for pages (`web/canon_browser.ts`);
 * - `app.js`: the app (`web/app.ts`, with the API inside);
 * - `emulator.js`: the in-page virtual camera, loaded only on `?emulate`.
 *
 * @module
 */

/** The web app's sources (this directory). */
export const WEB_SOURCES: URL = new URL("./", import.meta.url);

const BUNDLES: readonly [string, string][] = [
  ["canon_browser.ts", "canon-remote.js"],
  ["app.ts", "app.js"],
  ["emulator_entry.ts", "emulator.js"],
];

const STATIC_FILES = ["index.html", "style.css"] as const;

/** What {@link buildWeb} wrote. */
export interface WebBuild {
  /** The directory. */
  directory: string;
  /** The file names written, in order. */
  files: string[];
}

/** The web sources are not beside this module (e.g. inside a single-file bundle). */
export class WebSourcesMissingError extends Error {
  constructor(where: string) {
    super(
      `the web app's sources are not at ${where}; run \`canon web\` from a checkout of ` +
        "canon-remote (deno task canon web)",
    );
    this.name = "WebSourcesMissingError";
  }
}

/**
 * Bundle the app into `directory` (created if needed).
 *
 * @param directory where to write
 * @returns the files written
 * @throws {WebSourcesMissingError} when the sources are not on disk
 * @throws {Error} with deno bundle's output when bundling fails
 */
export async function buildWeb(directory: string): Promise<WebBuild> {
  if (WEB_SOURCES.protocol !== "file:") throw new WebSourcesMissingError(WEB_SOURCES.href);
  const sources = decodeURIComponent(WEB_SOURCES.pathname);
  try {
    await Deno.stat(`${sources}app.ts`);
  } catch {
    throw new WebSourcesMissingError(sources);
  }
  await Deno.mkdir(directory, { recursive: true });
  const files: string[] = [];
  for (const [source, output] of BUNDLES) {
    const result = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--platform",
        "browser",
        "--import-map",
        `${sources}import_map.json`,
        "-o",
        `${directory}/${output}`,
        `${sources}${source}`,
      ],
      cwd: `${sources}..`, // module comments in the bundle read "src/…", "web/…"
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!result.success) {
      const text = new TextDecoder().decode(result.stderr) +
        new TextDecoder().decode(result.stdout);
      throw new Error(`deno bundle ${source} failed:\n${text}`);
    }
    files.push(output);
  }
  for (const name of STATIC_FILES) {
    await Deno.copyFile(`${sources}${name}`, `${directory}/${name}`);
    files.push(name);
  }
  return { directory, files };
}
