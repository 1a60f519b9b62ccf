/** @deprecated Moved to `rl/common/ema.ts` (the weight EMA, shared by every learner); this re-export keeps old imports working. */
export * from './common/ema.js';
