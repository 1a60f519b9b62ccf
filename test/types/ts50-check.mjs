// Type-checks a consumer project with a given TypeScript (5.0 here) and emits its JavaScript.
// Only drivekit's files (dist/ declarations and the consumer) are checked semantically: checking
// every third-party .d.ts (tfjs, apache-arrow) would take minutes and report problems that are not
// ours. Usage: node ts50-check.mjs <path/to/typescript> <project dir>
import { createRequire } from 'node:module';
import path from 'node:path';
import process from 'node:process';

const ts = createRequire(import.meta.url)(process.argv[2]);
const dir = path.resolve(process.argv[3]);
const configPath = path.join(dir, 'tsconfig.json');
const config = ts.readConfigFile(configPath, ts.sys.readFile);
if (config.error) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, dir);
const program = ts.createProgram(parsed.fileNames, parsed.options);
const ours = program.getSourceFiles().filter((sf) => !sf.fileName.includes('/node_modules/'));
const diagnostics = [
  ...parsed.errors,
  ...program.getOptionsDiagnostics(),
  ...program.getGlobalDiagnostics(),
  ...ours.flatMap((sf) => [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]),
];
const emitted = program.emit(undefined, undefined, undefined, false);
diagnostics.push(...emitted.diagnostics.filter((d) => !d.file || !d.file.fileName.includes('/node_modules/')));
const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => dir, getNewLine: () => '\n' };
process.stdout.write(`checked ${ours.length} files with TypeScript ${ts.version}\n`);
if (diagnostics.length > 0) {
  process.stdout.write(ts.formatDiagnostics(diagnostics, host));
  process.exitCode = 1;
}
