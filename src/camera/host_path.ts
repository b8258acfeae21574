/**
 * The host path helpers the library and the `canon` command use (`join`,
 * `basename`, `dirname`, `relative`), with the host's conventions: `/` on
 * Linux and macOS; `\` or `/` and drive letters on Windows.
 *
 * The same results as `node:path` for the paths these callers build, without
 * loading Deno's Node compatibility layer, which `node:path` pulls in whole
 * and which cost more than everything else the start-up of `canon info` loads
 * (`deno run --cpu-prof`). A bundle hoists every `node:` import to its top,
 * so one such import anywhere made every command pay for it.
 *
 * @module
 */

/** The path functions of one convention. */
export interface HostPaths {
  /** The separator `join` writes. */
  readonly sep: string;
  /** The segments joined, then normalized ("a", "../b" → "b"); "." for nothing. */
  join(...parts: string[]): string;
  /** The last segment, trailing separators ignored ("/a/b.jpg/" → "b.jpg"). */
  basename(path: string): string;
  /** All but the last segment ("/a/b.jpg" → "/a", "b.jpg" → ".", "/" → "/"). */
  dirname(path: string): string;
  /** The path from `from` to `to`, both taken against the working directory. */
  relative(from: string, to: string): string;
}

/** A path split into its root ("/", "C:\\", "C:", or "") and its segments. */
interface Split {
  root: string;
  segments: string[];
}

function paths(windows: boolean): HostPaths {
  const sep = windows ? "\\" : "/";
  const isSep = windows ? (c: string) => c === "/" || c === "\\" : (c: string) => c === "/";
  const sepRun = windows ? /[\\/]+/ : /\/+/;

  const split = (path: string): Split => {
    let root = "";
    if (windows && /^[A-Za-z]:/.test(path)) {
      root = path.slice(0, 2);
      path = path.slice(2);
    }
    if (path.length > 0 && isSep(path[0])) root += sep;
    return { root, segments: path.split(sepRun).filter((s) => s !== "") };
  };

  /** Resolve "." and ".." (".." above a root stays at the root). */
  const normal = ({ root, segments }: Split): Split => {
    const out: string[] = [];
    const absolute = root.endsWith(sep);
    for (const segment of segments) {
      if (segment === ".") continue;
      if (segment === "..") {
        if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
        else if (!absolute) out.push("..");
        continue;
      }
      out.push(segment);
    }
    return { root, segments: out };
  };

  const text = ({ root, segments }: Split): string => {
    const body = segments.join(sep);
    return root + (body === "" && !root.endsWith(sep) ? "." : body);
  };

  const join = (...parts: string[]): string => {
    const joined = parts.filter((p) => p !== "").join(sep);
    if (joined === "") return ".";
    const trailing = isSep(joined[joined.length - 1]);
    const result = text(normal(split(joined)));
    return trailing && !result.endsWith(sep) ? result + sep : result;
  };

  const basename = (path: string): string => {
    const { segments } = split(path);
    return segments.length > 0 ? segments[segments.length - 1] : "";
  };

  const dirname = (path: string): string => {
    if (path === "") return ".";
    // Where the root ends ("/", "C:", "C:\\"); the rest is cut at its last
    // separator, the separators before that kept as written (as node:path does).
    let rootEnd = isSep(path[0]) ? 1 : 0;
    if (windows && /^[A-Za-z]:/.test(path)) rootEnd = path.length > 2 && isSep(path[2]) ? 3 : 2;
    let end = -1;
    let trailing = true;
    for (let i = path.length - 1; i >= Math.max(rootEnd, 1); i--) {
      if (!isSep(path[i])) trailing = false;
      else if (!trailing) {
        end = i;
        break;
      }
    }
    if (end === -1) return rootEnd > 0 ? path.slice(0, rootEnd) : ".";
    if (!windows && rootEnd === 1 && end === 1) return "//";
    return path.slice(0, end);
  };

  const absolute = (path: string): Split => {
    const s = split(path);
    if (s.root.endsWith(sep)) return normal(s);
    const cwd = split(Deno.cwd());
    return normal({ root: cwd.root, segments: [...cwd.segments, ...s.segments] });
  };

  const relative = (from: string, to: string): string => {
    const a = absolute(from);
    const b = absolute(to);
    const same = (x: string, y: string) => windows ? x.toLowerCase() === y.toLowerCase() : x === y;
    if (!same(a.root, b.root)) return text(b);
    let common = 0;
    while (
      common < a.segments.length && common < b.segments.length &&
      same(a.segments[common], b.segments[common])
    ) common++;
    const up = a.segments.slice(common).map(() => "..");
    return [...up, ...b.segments.slice(common)].join(sep);
  };

  return { sep, join, basename, dirname, relative };
}

/** The POSIX convention (Linux, macOS). */
export const posixPaths: HostPaths = paths(false);
/** The Windows convention. */
export const windowsPaths: HostPaths = paths(true);

const host: HostPaths = globalThis.Deno?.build.os === "windows" ? windowsPaths : posixPaths;

/** {@link HostPaths.join} of the host's convention. */
export const join: HostPaths["join"] = host.join;
/** {@link HostPaths.basename} of the host's convention. */
export const basename: HostPaths["basename"] = host.basename;
/** {@link HostPaths.dirname} of the host's convention. */
export const dirname: HostPaths["dirname"] = host.dirname;
/** {@link HostPaths.relative} of the host's convention. */
export const relative: HostPaths["relative"] = host.relative;
