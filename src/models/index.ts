// Public surface of drivekit/models.
export * from './schedule.js';
export * from './ddim.js';
export * from './normalize.js';
export * from './layers.js';
export * from './encoders.js';
export * from './dit.js';
export * from './logprob.js';
export * from './grpo.js';
export * from './planner.js';
export * from './weights.js';
export { ActorCriticPolicy, POLICY_CONFIG, orthogonalValues } from './mlp-policy.js';
export type { ActResult, EvaluatedActions, PolicyConfig } from './mlp-policy.js';
export { categoricalEntropy, categoricalLogProb, gaussianEntropy, gaussianLogProb, sampleCategorical, sampleGaussian } from './distributions.js';
export { DISCRIMINATOR_CONFIG, MlpDiscriminator } from './discriminator.js';
export type { DiscriminatorConfig } from './discriminator.js';
