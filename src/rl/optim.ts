/** @deprecated Moved to `rl/common/optim.ts` (AdamW, gradient clipping, shared by every learner); this re-export keeps old imports working. */
export * from './common/optim.js';
