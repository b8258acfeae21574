/**
 * The three POSIX path helpers the camera layer uses for host paths
 * (`basename`, `dirname`, `join`), for the browser build, where `node:path`
 * does not exist. The browser build maps `node:path` here
 * (`web/import_map.json`).
 *
 * @module
 */

/**
 * The last segment of a path ("/a/b.jpg" → "b.jpg").
 *
 * @param path a slash-separated path
 * @returns its last segment
 */
export function basename(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

/**
 * Everything before the last segment ("/a/b.jpg" → "/a", "b.jpg" → ".").
 *
 * @param path a slash-separated path
 * @returns its directory
 */
export function dirname(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  const slash = trimmed.lastIndexOf("/");
  if (slash < 0) return ".";
  return slash === 0 ? "/" : trimmed.slice(0, slash);
}

/**
 * Join segments with single slashes ("a/", "/b" → "a/b").
 *
 * @param parts path segments
 * @returns the joined path
 */
export function join(...parts: string[]): string {
  const joined = parts.filter((part) => part !== "").join("/").replace(/\/{2,}/g, "/");
  return joined === "" ? "." : joined;
}
