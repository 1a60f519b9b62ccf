/**
 * NAVSIM's batch kinematic bicycle model (`simulation/batch_kinematic_bicycle.py`), rear axle as
 * reference point: first-order lags on acceleration (τ = 0.2 s) and steering angle (τ = 0.05 s),
 * explicit Euler with the OLD velocity, heading and steering angle, steering clipped to ±π/3.
 */
import { principalValue } from './interpolate.js';
import { PACIFICA, StateIndex } from './types.js';

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
  propagateStateTan(s, io, accelCmd, steeringRateCmd, out, oo, Math.tan(s[io + StateIndex.STEERING_ANGLE]!), dt, cfg);
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
  const x = s[io + StateIndex.X]!;
  const y = s[io + StateIndex.Y]!;
  const h = s[io + StateIndex.HEADING]!;
  const v = s[io + StateIndex.VELOCITY_X]!;
  const accel = s[io + StateIndex.ACCELERATION_X]!;
  const steering = s[io + StateIndex.STEERING_ANGLE]!;
  const omegaOld = s[io + StateIndex.ANGULAR_VELOCITY]!;

  // _update_commands: low-pass filtered acceleration and steering
  const idealSteering = dt * steeringRateCmd + steering;
  const updatedAccel = (dt / (dt + cfg.accelTimeConstant)) * (accelCmd - accel) + accel;
  const updatedSteering = (dt / (dt + cfg.steeringAngleTimeConstant)) * (idealSteering - steering) + steering;
  const updatedSteeringRate = (updatedSteering - steering) / dt;

  // get_state_dot on the propagating state (old pose / velocity / steering)
  const xDot = v * Math.cos(h);
  const yDot = v * Math.sin(h);
  const hDot = (v * tanSteering) / cfg.wheelBase;

  out[oo + StateIndex.X] = x + xDot * dt;
  out[oo + StateIndex.Y] = y + yDot * dt;
  out[oo + StateIndex.HEADING] = principalValue(h + hDot * dt);
  const vNew = v + updatedAccel * dt;
  out[oo + StateIndex.VELOCITY_X] = vNew;
  out[oo + StateIndex.VELOCITY_Y] = 0;
  let steerNew = steering + updatedSteeringRate * dt;
  if (steerNew < -cfg.maxSteeringAngle) steerNew = -cfg.maxSteeringAngle;
  if (steerNew > cfg.maxSteeringAngle) steerNew = cfg.maxSteeringAngle;
  out[oo + StateIndex.STEERING_ANGLE] = steerNew;
  const tanNew = Math.tan(steerNew);
  const omega = (vNew * tanNew) / cfg.wheelBase;
  out[oo + StateIndex.ANGULAR_VELOCITY] = omega;
  out[oo + StateIndex.ACCELERATION_X] = updatedAccel;
  out[oo + StateIndex.ACCELERATION_Y] = 0;
  out[oo + StateIndex.ANGULAR_ACCELERATION] = (omega - omegaOld) / dt;
  out[oo + StateIndex.STEERING_RATE] = updatedSteeringRate;
  return tanNew;
}
