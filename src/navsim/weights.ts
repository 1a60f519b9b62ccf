/**
 * The PDM score weights as a declared config (`core/config`): a typo such as `{progres: 10}` is a
 * `ConfigError` naming `progress`, not a weight silently left at its default.
 *
 * ```ts
 * resolvePDMWeights('v2.2', { progress: 10 });   // ReCogDrive trains with progress 10
 * ```
 *
 * The defaults depend on the version (`defaultWeights`): v1.1 (PDMS) weighs progress 5, TTC 5,
 * comfort 2; v2.2 (EPDMS) progress 5, TTC 5, lane keeping 2, history comfort 2, extended comfort 2.
 * `PDM_WEIGHTS_CONFIG.defaults` are v2.2's.
 */
import { defineConfig, type ConfigDef } from '../core/config.js';
import { defaultWeights } from './scorer.js';
import type { PDMVersion, PDMWeights } from './types.js';

const V22 = defaultWeights('v2.2');

export const PDM_WEIGHTS_CONFIG: ConfigDef<PDMWeights> = defineConfig<PDMWeights>('PDMWeights', {
  progress: { default: V22.progress, type: 'number', min: 0, doc: 'Ego progress (v1.1 and v2.2: 5).' },
  ttc: { default: V22.ttc, type: 'number', min: 0, doc: 'Time to collision within bound (v1.1 and v2.2: 5).' },
  comfort: { default: V22.comfort, type: 'number', min: 0, doc: 'v1.1 comfort (v1.1: 2, v2.2: 0).' },
  drivingDirection: { default: V22.drivingDirection, type: 'number', min: 0, doc: 'v1.1 driving direction as a weighted metric (0 in PDMS).' },
  laneKeeping: { default: V22.laneKeeping, type: 'number', min: 0, doc: 'v2.2 lane keeping (v2.2: 2).' },
  historyComfort: { default: V22.historyComfort, type: 'number', min: 0, doc: 'v2.2 history comfort (v2.2: 2).' },
  extendedComfort: { default: V22.extendedComfort, type: 'number', min: 0, doc: 'v2.2 two-frame extended comfort (v2.2: 2; dropped from the denominator when EC is NaN).' },
});

/** The version's default weights overridden by `weights`; frozen. Throws `ConfigError` for unknown keys and bad values. */
export function resolvePDMWeights(version: PDMVersion, weights?: Partial<PDMWeights>): Readonly<PDMWeights> {
  return PDM_WEIGHTS_CONFIG.resolve(weights, { base: defaultWeights(version) });
}

// ---------------------------------------------------------------------------------------------
// Deprecated names (before the acronym casing IL, PDM, DDIM, PPO, GRPO)

/** @deprecated Renamed `resolvePDMWeights`. */
export const resolvePdmWeights = resolvePDMWeights;
