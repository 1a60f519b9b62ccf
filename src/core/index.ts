// Public surface of drivekit/core (also the top of the root `drivekit` entry): backend selection,
// seeded RNG, errors, configs, tensor helpers, safetensors on bytes and PyTorch state dicts.
// Browser-safe: files (atomic writes, safetensors and checkpoint files, Arrow IPC), loggers with
// file sinks and progress bars are in `drivekit/node`.

// Backends and randomness.
export { availableBackends, BACKEND_ORDER, currentBackend, init, useBackend, warnIfNotInitialised } from './backend.js';
export type { BackendAvailability, BackendName, BackendRequest, InitOptions } from './backend.js';
export { Rng, rng } from './rng.js';
export type { JumpableGenerator } from './rng.js';
export { VERSION } from './version.js';

// Errors and configs.
export { ConfigError, describeValue, DrivekitError, InputError, levenshtein, nearest, UsageError } from './errors.js';
export type { ErrorDetails } from './errors.js';
export { cliFlags, defineConfig, describeSpec, kebabCase, parseFlagValue, UnknownKeyError } from './config.js';
export type { CliFlag, ConfigDef, ConfigInput, ConfigIssue, DefineConfigOptions, FieldSpec, FieldSpecs, FieldType, ResolveOptions } from './config.js';

// Tensors: the wasm matmul fast path, leak checks, safetensors bytes and PyTorch state dicts.
export { linear, matMul2d } from './ops.js';
export type { LinearOptions } from './ops.js';
export { measureMatmulGflops } from './perf.js';
export type { MatmulMeasurement, MatmulOptions } from './perf.js';
export { expectNoTensorLeak, expectNoTensorLeakSync, TensorLeakError } from './testing.js';
export { bfloat16BitsToNumber, DTYPE_BYTES, float16BitsToNumber, numberToBfloat16Bits, numberToFloat16Bits, parseSafetensors, SafetensorsError, serializeSafetensors } from './safetensors-format.js';
export type { FiniteCheckOptions, SafeData, SafeDType, SafeTensor, SafetensorsFile, TensorDict } from './safetensors-format.js';
export { loadStateDict, safeTensorFromTf, tfFromSafeTensor, toStateDict } from './state-dict.js';
export type { LoadStateDictOptions, LoadStateDictReport, StateDictMapping } from './state-dict.js';
