/**
 * A virtual memory card made from a folder of this computer
 * (`canon --emulate --card DIR`): the camera serves the folder's photos, so
 * `get --new`, `watch` or a long download with progress can be tried on
 * one's own pictures without a camera.
 *
 * - A folder with a `DCIM` subfolder is taken as a card copied off a camera:
 *   every file with 8.3 names all along its path is served at that path.
 * - Any other folder: its JPEGs (`*.jpg`, `*.jpeg`, top level, oldest first)
 *   become `/DCIM/100CANON/IMG_0001.JPG`, ...; a camera's own name, like
 *   `IMG_0042.JPG` or `DSC_1234.JPG`, is kept, and the others are numbered on
 *   from the highest number, as the camera numbers.
 *
 * Files are read from disk when the camera reads them; each is served with
 * its own EXIF thumbnail, its modification time as the camera's date, and
 * marked new. The card's changes (new/downloaded marks, protection, deletions,
 * new directories, pictures taken or uploaded) are kept in memory, and with
 * `persist` written back by {@link DirectoryCard.save}: the state to
 * `DIR/.canon-card.json`, new pictures into `DIR` under a free name. Files of
 * the folder are never deleted or overwritten: a photo deleted from the card
 * is only listed as deleted in the state file, and no longer served.
 *
 * @module
 */

import { basename, join, relative } from "../../camera/host_path.ts";
import { MemoryCard } from "./memory_card.ts";
import type { CardFileSpec } from "./card_content.ts";

/** The state file in the folder. */
export const CARD_STATE_FILE = ".canon-card.json";

const NOT_DOWNLOADED = 0x20;
const SHORT = /^[A-Z0-9_$~!#%&'(){}@^`-]{1,8}(\.[A-Z0-9_$~!#%&'(){}@^`-]{1,3})?$/;

interface CardState {
  version: 1;
  files: { path: string; host: string; attributes: number; mtime: number }[];
  directories: string[];
  deleted: string[];
}

/** Options of {@link DirectoryCard.open}. */
export interface DirectoryCardOptions {
  /** Camera model for the EXIF of pictures the camera makes (default the G3's). */
  model?: string;
}

/** Seconds of the local wall clock (the camera's time, which has no zone) for a date. */
function cameraSeconds(date: Date | null): number {
  const d = date ?? new Date();
  return Math.floor(d.getTime() / 1000) - d.getTimezoneOffset() * 60;
}

async function readState(dir: string): Promise<CardState | undefined> {
  try {
    const state = JSON.parse(await Deno.readTextFile(join(dir, CARD_STATE_FILE)));
    if (state?.version !== 1 || !Array.isArray(state.files)) {
      throw new Error(`${join(dir, CARD_STATE_FILE)} is not a card state file`);
    }
    return { directories: [], deleted: [], ...state };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

async function* walk(dir: string, base = dir): AsyncGenerator<string> {
  const entries = [];
  for await (const e of Deno.readDir(dir)) entries.push(e);
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith(".")) continue;
    const path = join(dir, e.name);
    if (e.isDirectory) yield* walk(path, base);
    else if (e.isFile) yield relative(base, path);
  }
}

/** A virtual card served from a folder; see the module documentation. */
export class DirectoryCard {
  /** The card, to give to `new VirtualCamera({ card })`. */
  readonly card: MemoryCard;
  /** The folder. */
  readonly directory: string;
  /** Local files that could not be put on the card (names that are not 8.3, ...). */
  readonly skipped: string[];
  readonly #hosts: Map<string, { host: string; size: number }>;
  readonly #deleted: Set<string>;

  private constructor(
    card: MemoryCard,
    directory: string,
    hosts: Map<string, { host: string; size: number }>,
    deleted: Set<string>,
    skipped: string[],
  ) {
    this.card = card;
    this.directory = directory;
    this.#hosts = hosts;
    this.#deleted = deleted;
    this.skipped = skipped;
  }

  /**
   * Make the card from a folder (and its saved state, if any).
   *
   * @param directory the folder
   * @param options the camera model
   * @returns the card
   * @throws {Deno.errors.NotFound} when the folder is missing
   */
  static async open(directory: string, options: DirectoryCardOptions = {}): Promise<DirectoryCard> {
    const info = await Deno.stat(directory);
    if (!info.isDirectory) throw new Error(`${directory} is not a folder`);
    const state = await readState(directory);
    const mirror = await Deno.stat(join(directory, "DCIM")).then((s) => s.isDirectory, () => false);
    const specs: CardFileSpec[] = [];
    const hosts = new Map<string, { host: string; size: number }>();
    const used = new Set<string>();
    const deleted = new Set(state?.deleted ?? []);
    const skipped: string[] = [];
    let total = 0;
    const add = async (path: string, host: string, attributes: number, mtime?: number) => {
      const stat = await Deno.stat(join(directory, host));
      specs.push({
        path,
        hostFile: join(directory, host),
        attributes,
        mtime: mtime ?? cameraSeconds(stat.mtime),
      });
      hosts.set(path, { host, size: stat.size });
      used.add(path);
      total += stat.size;
    };
    for (const d of state?.directories ?? []) specs.push({ path: d, kind: "directory" });
    for (const f of state?.files ?? []) {
      if (!(await Deno.stat(join(directory, f.host)).then(() => true, () => false))) continue;
      await add(f.path, f.host, f.attributes, f.mtime);
    }
    const known = new Set([...hosts.values()].map((h) => h.host));
    const fresh: { host: string; mtime: number }[] = [];
    for await (const host of walk(directory)) {
      if (known.has(host) || deleted.has(host)) continue;
      if (!mirror && (host.includes("/") || !/\.jpe?g$/i.test(host))) continue;
      const stat = await Deno.stat(join(directory, host));
      fresh.push({ host, mtime: stat.mtime?.getTime() ?? 0 });
    }
    if (mirror) {
      for (const { host } of fresh) {
        const parts = host.split("/").map((p) => p.toUpperCase());
        if (!parts.every((p) => SHORT.test(p))) {
          skipped.push(host);
          continue;
        }
        await add(`/${parts.join("/")}`, host, NOT_DOWNLOADED);
      }
    } else {
      fresh.sort((a, b) => a.mtime - b.mtime || (a.host < b.host ? -1 : 1));
      let folder = 100;
      let number = 0;
      const nextFree = () => {
        for (;;) {
          if (++number > 9999) [folder, number] = [folder + 1, 1];
          const path = `/DCIM/${folder}CANON/IMG_${String(number).padStart(4, "0")}.JPG`;
          if (folder > 999) throw new RangeError("more photos than DCF numbers");
          if (!used.has(path)) return path;
        }
      };
      const keep = (host: string) => {
        const upper = host.toUpperCase();
        const path = `/DCIM/100CANON/${upper}`;
        return /^[A-Z0-9_]{4}\d{4}\.JPG$/.test(upper) && !used.has(path) ? path : undefined;
      };
      for (const { host } of fresh.filter((f) => keep(f.host))) {
        await add(keep(host)!, host, NOT_DOWNLOADED);
      }
      // Numbered on from the highest number there, as the camera numbers.
      for (const path of used) {
        const m = /^\/DCIM\/(\d{3})[A-Z0-9_]{5}\/[A-Z0-9_]{4}(\d{4})\.[A-Z0-9]{3}$/.exec(path);
        if (!m) continue;
        const [f, n] = [Number(m[1]), Number(m[2])];
        if (f > folder || (f === folder && n > number)) [folder, number] = [f, n];
      }
      for (
        const { host } of fresh.filter((f) => !used.has(`/DCIM/100CANON/${f.host.toUpperCase()}`))
      ) {
        await add(nextFree(), host, NOT_DOWNLOADED);
      }
    }
    const capacity = Math.min(0xffffffff, Math.max(128_450_560, Math.ceil(total * 1.5)));
    const card = new MemoryCard({ content: specs, capacity, model: options.model });
    return new DirectoryCard(card, directory, hosts, deleted, skipped);
  }

  /** How many files the card has. */
  get fileCount(): number {
    return this.card.snapshot().filter((e) => !e.isDirectory).length;
  }

  /**
   * Write the card's changes back: new pictures into the folder (under a free
   * name, never over a file), and the state (marks, protection, deletions,
   * directories) to {@link CARD_STATE_FILE}.
   *
   * @returns the local files written
   */
  async save(): Promise<string[]> {
    const snapshot = this.card.snapshot();
    const state: CardState = { version: 1, files: [], directories: [], deleted: [] };
    const written: string[] = [];
    const present = new Set<string>();
    for (const entry of snapshot) {
      if (entry.isDirectory) {
        state.directories.push(entry.path);
        continue;
      }
      present.add(entry.path);
      let host = this.#hosts.get(entry.path)?.host;
      if (host === undefined || this.#hosts.get(entry.path)!.size !== entry.size) {
        const names = entry.path.split("/").filter(Boolean);
        const bytes = this.card.read(names, 0, entry.size);
        host = await this.#writeNew(basename(entry.path), bytes);
        written.push(join(this.directory, host));
        this.#hosts.set(entry.path, { host, size: entry.size });
      }
      state.files.push({
        path: entry.path,
        host,
        attributes: entry.attributes,
        mtime: entry.mtime,
      });
    }
    for (const [path, { host }] of this.#hosts) {
      if (!present.has(path)) this.#deleted.add(host);
    }
    state.deleted = [...this.#deleted].filter((h) => !state.files.some((f) => f.host === h)).sort();
    const target = join(this.directory, CARD_STATE_FILE);
    const temporary = `${target}.${crypto.randomUUID().slice(0, 8)}.partial`;
    await Deno.writeTextFile(temporary, JSON.stringify(state, null, 2) + "\n");
    await Deno.rename(temporary, target);
    return written;
  }

  /** Write `bytes` to a name in the folder that is free; returns the name. */
  async #writeNew(name: string, bytes: Uint8Array): Promise<string> {
    const dot = name.lastIndexOf(".");
    const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ""];
    for (let n = 0;; n++) {
      const host = n === 0 ? name : `${stem}-${n}${ext}`;
      const temporary = join(this.directory, `.${host}.${crypto.randomUUID().slice(0, 8)}.partial`);
      await Deno.writeFile(temporary, bytes, { createNew: true });
      try {
        await Deno.link(temporary, join(this.directory, host)); // fails if the name is taken
        return host;
      } catch (error) {
        if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      } finally {
        await Deno.remove(temporary);
      }
    }
  }
}
