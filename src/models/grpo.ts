/** @deprecated Moved to `rl/grpo/loss.ts` (the DiffGRPO loss lives beside its trainer); this re-export keeps old imports working. */
export * from '../rl/grpo/loss.js';
