/**
 * The `drivekit` command. Each subcommand lives in its own module under `src/cli/` and is
 * loaded on demand, so `drivekit info` does not pay for the env or the planner.
 */
import { UsageError } from './args.js';

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
  navsim: { summary: 'NAVSIM PDM scoring: score (PDMS/EPDMS), pack (Arrow)', load: async () => (await import('./navsim.js')).navsimCommand },
};

/** Registers a subcommand (used by the modules below and by tests). */
export function registerCommand(name: string, summary: string, load: () => Promise<Command>): void {
  COMMANDS[name] = { summary, load };
}

function usage(): string {
  const lines = ['Usage: drivekit <command> [options]', '', 'Commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  lines.push('', 'Run `drivekit <command> --help` for the options of a command.');
  return lines.join('\n');
}

export async function main(argv: string[], io: CliIO = defaultIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage());
    return name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    io.err(`drivekit: unknown command '${name}'.`);
    io.err(usage());
    return 2;
  }
  try {
    return await (await cmd.load())(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      (e.message.startsWith('Usage:') ? io.out : io.err)(e.message);
      return e.message.startsWith('Usage:') ? 0 : 2;
    }
    throw e;
  }
}
