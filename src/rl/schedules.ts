/** @deprecated Moved to `rl/common/schedules.ts` (learning-rate schedules, shared by every learner); this re-export keeps old imports working. */
export * from './common/schedules.js';
