/**
 * The command line's options, parsed strictly (the conventions of POSIX
 * utilities and GNU long options): `--name`, `--name=VALUE`, `--name VALUE`,
 * `-x`, `-x VALUE`, `-xVALUE`, grouped flags `-abc`, and `--` ending the
 * options. An unknown option, a missing value, a value given to a flag, or a
 * value that looks like an option (`--port -R`) is an error that says which.
 *
 * Written for the `canon` command instead of `node:util`'s `parseArgs`:
 * loading Deno's Node compatibility layer for it cost the start-up of every
 * command more than the whole parse (`deno run --cpu-prof`, `canon info`).
 *
 * @module
 */

/** One option as the parser takes it. */
export interface ArgSpec {
  /** A flag, or an option that takes a value. */
  type: "boolean" | "string";
  /** One-letter form. */
  short?: string;
  /** May be given more than once (its values collect in an array). */
  multiple?: boolean;
}

/** The parsed command line. */
export interface ParsedArgs {
  /** Option values by long name: `true` for a flag, the text for a value, arrays for `multiple`. */
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  /** The other arguments, in order. */
  positionals: string[];
}

/** Why a command line does not parse (the message names the option). */
export class ArgsError extends Error {
  /** @param message what is wrong */
  constructor(message: string) {
    super(message);
    this.name = "ArgsError";
  }
}

/**
 * Parse a command line against the options it may have.
 *
 * @param args the arguments (without the program and sub-command names)
 * @param spec the options by long name
 * @returns the values and the positional arguments
 * @throws {ArgsError} on an unknown option, a missing or unexpected value
 */
export function parseCommandArgs(
  args: readonly string[],
  spec: Readonly<Record<string, ArgSpec>>,
): ParsedArgs {
  const byShort = new Map<string, string>();
  for (const [name, option] of Object.entries(spec)) {
    if (option.short) byShort.set(option.short, name);
  }
  const values: ParsedArgs["values"] = {};
  const positionals: string[] = [];
  const known = (name: string) => Object.hasOwn(spec, name);

  /** Store one use of `name` (`raw` as written), checking its value. */
  const set = (name: string, raw: string, value: string | undefined, inline: boolean) => {
    if (!known(name)) throw new ArgsError(`Unknown option '${raw}'`);
    const option = spec[name];
    const forms = `${option.short ? `-${option.short}, ` : ""}--${name}`;
    if (option.type === "string") {
      if (value === undefined) throw new ArgsError(`Option '${forms} <value>' argument missing`);
      if (!inline && value.length > 1 && value.startsWith("-")) {
        throw new ArgsError(`Option '${raw}' argument is ambiguous`);
      }
    } else if (value !== undefined) {
      throw new ArgsError(`Option '${forms}' does not take an argument`);
    }
    const stored = option.type === "string" ? value! : true;
    if (option.multiple) {
      const list = values[name];
      values[name] = Array.isArray(list) ? [...list, stored] : [stored];
    } else {
      values[name] = stored;
    }
  };

  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      if (eq !== -1) {
        set(arg.slice(2, eq), arg.slice(0, eq), arg.slice(eq + 1), true);
        continue;
      }
      const name = arg.slice(2);
      const takesValue = known(name) && spec[name].type === "string" && i + 1 < args.length;
      set(name, arg, takesValue ? args[++i] : undefined, false);
      continue;
    }
    if (arg.length < 2 || !arg.startsWith("-")) {
      positionals.push(arg);
      continue;
    }
    // -x, -x VALUE, -xVALUE, -abc
    for (let j = 1; j < arg.length; j++) {
      const letter = arg[j];
      const name = byShort.get(letter) ?? letter;
      const raw = `-${letter}`;
      if (known(name) && spec[name].type === "string") {
        if (j + 1 < arg.length) set(name, raw, arg.slice(j + 1), true);
        else set(name, raw, i + 1 < args.length ? args[++i] : undefined, false);
        break;
      }
      set(name, raw, undefined, false);
    }
  }
  return { values, positionals };
}
