/**
 * NAVSIM's batch kinematic bicycle model (`simulation/batch_kinematic_bicycle.py`), rear axle as
 * reference point: first-order lags on acceleration (τ = 0.2 s) and steering angle (τ = 0.05 s),
 * explicit Euler with the OLD velocity, heading and steering angle, steering clipped to ±π/3.
 */
import { principalValue } from './interpolate.js';
import { PACIFICA, StateIndex } from './types.js';
// Module-local copies of the state layout: the CommonJS build (file per file) reads imported
// bindings through export getters (~10 % of a fresh CLI process, before the code is optimised).
const S_STEERING_ANGLE = StateIndex.STEERING_ANGLE;
const S_X = StateIndex.X;
const S_Y = StateIndex.Y;
const S_HEADING = StateIndex.HEADING;
const S_VELOCITY_X = StateIndex.VELOCITY_X;
const S_ACCELERATION_X = StateIndex.ACCELERATION_X;
const S_ANGULAR_VELOCITY = StateIndex.ANGULAR_VELOCITY;
const S_VELOCITY_Y = StateIndex.VELOCITY_Y;
const S_ACCELERATION_Y = StateIndex.ACCELERATION_Y;
const S_ANGULAR_ACCELERATION = StateIndex.ANGULAR_ACCELERATION;
const S_STEERING_RATE = StateIndex.STEERING_RATE;

export interface BicycleConfig {
  wheelBase: number;
  maxSteeringAngle: number;
  accelTimeConstant: number;
  steeringAngleTimeConstant: number;
}

export const DEFAULT_BICYCLE_CONFIG: Readonly<BicycleConfig> = Object.freeze({
  wheelBase: PACIFICA.wheelBase,
  maxSteeringAngle: Math.PI / 3,
  accelTimeConstant: 0.2,
  steeringAngleTimeConstant: 0.05,
});

/** `TimeDuration.from_s(0.1).time_s` = 100000 µs · 1e-6 (not exactly 0.1). */
export const SIMULATION_DT = 100000 * 1e-6;

/**
 * `propagate_state` for one proposal: reads the state at `io`, the command (acceleration,
 * steering rate) and writes the next state at `oo` (may not alias `io`).
 */
export function propagateState(
  s: Float64Array,
  io: number,
  accelCmd: number,
  steeringRateCmd: number,
  out: Float64Array,
  oo: number,
  dt: number = SIMULATION_DT,
  cfg: BicycleConfig = DEFAULT_BICYCLE_CONFIG,
): void {
  propagateStateTan(s, io, accelCmd, steeringRateCmd, out, oo, Math.tan(s[io + S_STEERING_ANGLE]!), dt, cfg);
}

/**
 * `propagateState` given `tanSteering` = tan of the state's steering angle; returns tan of the new
 * steering angle, which is the next step's `tanSteering` (one tangent per step instead of two).
 */
export function propagateStateTan(
  s: Float64Array,
  io: number,
  accelCmd: number,
  steeringRateCmd: number,
  out: Float64Array,
  oo: number,
  tanSteering: number,
  dt: number = SIMULATION_DT,
  cfg: BicycleConfig = DEFAULT_BICYCLE_CONFIG,
): number {
  const x = s[io + S_X]!;
  const y = s[io + S_Y]!;
  const h = s[io + S_HEADING]!;
  const v = s[io + S_VELOCITY_X]!;
  const accel = s[io + S_ACCELERATION_X]!;
  const steering = s[io + S_STEERING_ANGLE]!;
  const omegaOld = s[io + S_ANGULAR_VELOCITY]!;

  // _update_commands: low-pass filtered acceleration and steering
  const idealSteering = dt * steeringRateCmd + steering;
  const updatedAccel = (dt / (dt + cfg.accelTimeConstant)) * (accelCmd - accel) + accel;
  const updatedSteering = (dt / (dt + cfg.steeringAngleTimeConstant)) * (idealSteering - steering) + steering;
  const updatedSteeringRate = (updatedSteering - steering) / dt;

  // get_state_dot on the propagating state (old pose / velocity / steering)
  const xDot = v * Math.cos(h);
  const yDot = v * Math.sin(h);
  const hDot = (v * tanSteering) / cfg.wheelBase;

  out[oo + S_X] = x + xDot * dt;
  out[oo + S_Y] = y + yDot * dt;
  out[oo + S_HEADING] = principalValue(h + hDot * dt);
  const vNew = v + updatedAccel * dt;
  out[oo + S_VELOCITY_X] = vNew;
  out[oo + S_VELOCITY_Y] = 0;
  let steerNew = steering + updatedSteeringRate * dt;
  if (steerNew < -cfg.maxSteeringAngle) steerNew = -cfg.maxSteeringAngle;
  if (steerNew > cfg.maxSteeringAngle) steerNew = cfg.maxSteeringAngle;
  out[oo + S_STEERING_ANGLE] = steerNew;
  const tanNew = Math.tan(steerNew);
  const omega = (vNew * tanNew) / cfg.wheelBase;
  out[oo + S_ANGULAR_VELOCITY] = omega;
  out[oo + S_ACCELERATION_X] = updatedAccel;
  out[oo + S_ACCELERATION_Y] = 0;
  out[oo + S_ANGULAR_ACCELERATION] = (omega - omegaOld) / dt;
  out[oo + S_STEERING_RATE] = updatedSteeringRate;
  return tanNew;
}
