/**
 * The `drivekit` command. Each subcommand lives in its own module under `src/cli/` and is
 * loaded on demand, so `drivekit info` does not pay for the env or the planner.
 */
import { ConfigError, InputError, UsageError } from '../core/errors.js';
import { VERSION } from '../core/version.js';
import { HelpRequest } from './args.js';

export interface CliIO {
  out: (line: string) => void;
  err: (line: string) => void;
}

export const defaultIO: CliIO = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};

export type Command = (args: string[], io: CliIO) => Promise<number>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  info: { summary: 'package, version and tfjs backends', load: async () => (await import('./info.js')).infoCommand },
  demo: { summary: 'the main job: both tracks end to end on embedded defaults', load: async () => (await import('./demo.js')).demoCommand },
  env: { summary: 'MetaDrive-style env: info, rollout, bench, render', load: async () => (await import('./env.js')).envCommand },
  planner: { summary: 'DiT diffusion planner: info, make-synthetic-cache, train-il, sample', load: async () => (await import('./planner.js')).plannerCommand },
  classic: { summary: 'PPO on gymnasium classics (CartPole-v1, Pendulum-v1)', load: async () => (await import('./classic.js')).classicCommand },
  navsim: { summary: 'NAVSIM PDM scoring: score (PDMS/EPDMS), pack (Arrow)', load: async () => (await import('./navsim.js')).navsimCommand },
  queue: { summary: 'Redis job queue: worker (runs --queue jobs; docs/scale-out.md)', load: async () => (await import('./queue.js')).queueCommand },
};

/** Registers a subcommand (used by the modules below and by tests). */
export function registerCommand(name: string, summary: string, load: () => Promise<Command>): void {
  COMMANDS[name] = { summary, load };
}

function usage(): string {
  const lines = ['Usage: drivekit <command> [options]', '       drivekit --version', '', 'Commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  lines.push('', 'Run `drivekit <command> --help` for the options of a command.');
  return lines.join('\n');
}

/**
 * Runs one command and returns its exit code: 0 ok (and `--help`, `--version`), 2 a usage or
 * configuration error (the message names the flag), 1 an input error (the message names the file)
 * or a failure. Other errors are rethrown (`bin/drivekit.cjs` prints them and exits 1).
 */
export async function main(argv: string[], io: CliIO = defaultIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    (name ? io.out : io.err)(usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    io.out(`drivekit ${VERSION}`);
    return 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    io.err(`drivekit: unknown command '${name}'. Valid: ${Object.keys(COMMANDS).join(', ')}, --version, --help.`);
    io.err(usage());
    return 2;
  }
  // `drivekit planner train-il` (the subcommand, when the first argument is one) prefixes errors
  const where = ['drivekit', name, ...(rest[0] && /^[a-z][a-z0-9-]*$/.test(rest[0]) ? [rest[0]] : [])].join(' ');
  try {
    return await (await cmd.load())(rest, io);
  } catch (e) {
    if (e instanceof HelpRequest) {
      io.out(e.text);
      return 0;
    }
    if (e instanceof UsageError || e instanceof ConfigError) {
      // A command's group help (`drivekit env` alone) is a usage error whose text is the usage.
      if (e.message.startsWith('Usage:') && rest.some((a) => a === '--help' || a === '-h')) {
        io.out(e.message);
        return 0;
      }
      io.err(e.message.startsWith('Usage:') ? e.message : `${where}: ${e.message}`);
      return 2;
    }
    if (e instanceof InputError) {
      io.err(`${where}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
