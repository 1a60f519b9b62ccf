/**
 * A `require` anchored at this package's own files, in both builds: the CommonJS build has
 * `__filename`; the ESM build uses `import.meta.url` (never evaluated in CommonJS, where esbuild
 * leaves `import.meta` empty). Optional packages are resolved from here, not from the process's
 * working directory, so `init()` works from any folder and from a global install.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const MODULE_FILE: string = typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);

export const packageRequire: NodeJS.Require = createRequire(MODULE_FILE);
