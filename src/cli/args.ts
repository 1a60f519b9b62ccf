/** A small, strict option parser: unknown options are errors that list the valid ones. */
export type OptionKind = 'boolean' | 'string' | 'number' | 'strings';
export type OptionSpec = Record<string, OptionKind>;
export type ParsedArgs = Record<string, string | number | boolean | string[] | undefined> & { _: string[] };

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Parses `--name value`, `--name=value` and `--flag`; positionals go to `_`.
 * Option names are given in kebab-case and returned as written.
 */
export function parseArgs(args: string[], spec: OptionSpec, usage: string): ParsedArgs {
  const out: ParsedArgs = { _: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--help' || a === '-h') throw new UsageError(`Usage: ${usage}`);
    if (!a.startsWith('--')) {
      out._.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq >= 0 ? eq : undefined);
    const kind = spec[name];
    if (!kind) {
      throw new UsageError(`Unknown option --${name}. Valid options: ${Object.keys(spec).map((k) => '--' + k).join(', ')}.\nUsage: ${usage}`);
    }
    if (kind === 'boolean') {
      out[name] = eq >= 0 ? a.slice(eq + 1) !== 'false' : true;
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = a.slice(eq + 1);
    else value = args[++i];
    if (value === undefined) throw new UsageError(`Option --${name} needs a value.\nUsage: ${usage}`);
    if (kind === 'number') {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new UsageError(`Option --${name}: expected a number, found ${JSON.stringify(value)}.`);
      out[name] = n;
    } else if (kind === 'strings') {
      const prev = out[name];
      out[name] = [...(Array.isArray(prev) ? prev : []), value];
    } else {
      out[name] = value;
    }
  }
  return out;
}
