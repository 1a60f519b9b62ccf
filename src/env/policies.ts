/**
 * Ego policies for rollouts and the CLI: the scripted expert, MetaDrive's IDMPolicy driving the
 * ego along its route, a constant action and uniform random actions (seeded).
 */
import { Rng } from '../core/rng.js';
import type { DrivingEnv } from './env.js';
import { ExpertPolicy, type ExpertOptions } from './expert.js';
import { IDMPolicy } from './idm.js';

export interface EgoPolicy {
  readonly name: string;
  /** Called after every env.reset(). */
  reset(env: DrivingEnv): void;
  /** The action [steering, throttle_brake] for the current state. */
  act(env: DrivingEnv, obs: Float32Array): [number, number];
}

export class ExpertEgoPolicy implements EgoPolicy {
  readonly name = 'expert';
  readonly expert: ExpertPolicy;
  constructor(options: Partial<ExpertOptions> = {}) {
    this.expert = new ExpertPolicy(options);
  }
  reset(_env?: DrivingEnv): void {
    this.expert.reset();
  }
  act(env: DrivingEnv, _obs?: Float32Array): [number, number] {
    return this.expert.act(env);
  }
}

/** MetaDrive's IDMPolicy as the ego policy (`agent_policy=IDMPolicy`), following the route. */
export class IdmEgoPolicy implements EgoPolicy {
  readonly name = 'idm';
  private idm: IDMPolicy | null = null;
  reset(env: DrivingEnv): void {
    const roads = env.map.routeRoads;
    this.idm = new IDMPolicy(env.map, new Rng(env.currentSeed ^ 0x1d3), (road) => roads[roads.indexOf(road) + 1] ?? null);
  }
  act(env: DrivingEnv, _obs?: Float32Array): [number, number] {
    if (this.idm === null) throw new Error('IdmEgoPolicy: reset(env) must be called after env.reset().');
    const objects = env.sceneObjects();
    const [s, a] = this.idm.act(objects[0]!, objects);
    return [Math.max(-1, Math.min(1, s)), Math.max(-1, Math.min(1, a))];
  }
}

export class ConstantPolicy implements EgoPolicy {
  readonly name = 'constant';
  constructor(readonly action: readonly [number, number] = [0, 1]) {}
  reset(_env?: DrivingEnv): void {}
  act(_env?: DrivingEnv, _obs?: Float32Array): [number, number] {
    return [this.action[0], this.action[1]];
  }
}

/** Uniform actions in [-1, 1]^2 from a stream re-seeded with the scenario seed at each reset. */
export class RandomPolicy implements EgoPolicy {
  readonly name = 'random';
  private rng = new Rng(0);
  constructor(readonly seed = 0) {}
  reset(env: DrivingEnv): void {
    this.rng = new Rng((this.seed * 1000003) ^ env.currentSeed);
  }
  act(_env?: DrivingEnv, _obs?: Float32Array): [number, number] {
    return [this.rng.uniform(-1, 1), this.rng.uniform(-1, 1)];
  }
}

/** The policy class behind each name of `makePolicy`. */
export interface PolicyByName {
  expert: ExpertEgoPolicy;
  idm: IdmEgoPolicy;
  constant: ConstantPolicy;
  random: RandomPolicy;
}
export type PolicyName = keyof PolicyByName;
export const POLICY_NAMES: readonly PolicyName[] = ['expert', 'idm', 'constant', 'random'];

/**
 * A policy by name with its defaults: `makePolicy('expert')` is an `ExpertEgoPolicy`. A name
 * only known at run time (a CLI flag) gives an `EgoPolicy`, and an unknown one throws.
 */
export function makePolicy<N extends PolicyName>(name: N): PolicyByName[N];
export function makePolicy(name: string): EgoPolicy;
export function makePolicy(name: string): EgoPolicy {
  switch (name) {
    case 'expert':
      return new ExpertEgoPolicy();
    case 'idm':
      return new IdmEgoPolicy();
    case 'constant':
      return new ConstantPolicy();
    case 'random':
      return new RandomPolicy();
    default:
      throw new Error(`Unknown policy '${name}'. Valid policies: ${POLICY_NAMES.join(', ')}.`);
  }
}
