/**
 * Vehicles: MetaDrive's vehicle classes (spec §2.1), its action mapping (§2.3) and a 2-D
 * kinematic bicycle with a lateral-grip limit that reproduces what Bullet's raycast vehicle does
 * with those numbers (§2.4). One env step = `decision_repeat` physics sub-steps; the action is
 * turned into engine/brake commands once per env step, as MetaDrive's `before_step` does.
 */
import type { Rng } from '../core/rng.js';
import { DEG2RAD } from '../geometry/angle.js';

export type VehicleModel = 'default' | 's' | 'm' | 'l' | 'xl';

export interface VehicleParams {
  readonly model: VehicleModel;
  /** Chassis length / width (m). */
  readonly length: number;
  readonly width: number;
  readonly mass: number;
  /** Front / rear axle distance from the chassis centre (m, both positive). */
  readonly frontAxle: number;
  readonly rearAxle: number;
  /** Maximum front-wheel angle (deg). */
  readonly maxSteeringDeg: number;
  /** Engine force per wheel (N), sampled uniformly per vehicle instance. */
  readonly engineForce: readonly [number, number];
  /** Brake impulse per wheel per physics sub-step, sampled uniformly per vehicle instance. */
  readonly brakeForce: readonly [number, number];
  /** Wheel friction slip (mu). */
  readonly friction: number;
}

/** Spec §2.1. All types share max_speed_km_h = 80. */
export const VEHICLE_TYPES: Readonly<Record<VehicleModel, VehicleParams>> = Object.freeze({
  default: { model: 'default', length: 4.515, width: 1.852, mass: 1100, frontAxle: 1.052, rearAxle: 1.417, maxSteeringDeg: 40, engineForce: [750, 850], brakeForce: [80, 180], friction: 0.9 },
  s: { model: 's', length: 4.3, width: 1.7, mass: 800, frontAxle: 1.385, rearAxle: 1.11, maxSteeringDeg: 50, engineForce: [350, 550], brakeForce: [35, 80], friction: 0.9 },
  m: { model: 'm', length: 4.6, width: 1.85, mass: 1200, frontAxle: 1.285, rearAxle: 1.203, maxSteeringDeg: 45, engineForce: [650, 850], brakeForce: [60, 150], friction: 0.75 },
  l: { model: 'l', length: 4.87, width: 2.046, mass: 1300, frontAxle: 1.53, rearAxle: 1.218, maxSteeringDeg: 40, engineForce: [450, 650], brakeForce: [60, 120], friction: 0.8 },
  xl: { model: 'xl', length: 5.74, width: 2.3, mass: 1600, frontAxle: 1.726, rearAxle: 1.075, maxSteeringDeg: 35, engineForce: [500, 700], brakeForce: [50, 100], friction: 0.7 },
} satisfies Record<VehicleModel, VehicleParams>);

/** Traffic type mix P(s, m, l, xl, default) (spec §5.1). */
export const TRAFFIC_TYPE_PROBS: readonly [VehicleModel, number][] = [['s', 0.2], ['m', 0.3], ['l', 0.3], ['xl', 0.2], ['default', 0]];

/** BaseVehicle.MAX_STEERING: used only to normalise observation feature 4 (spec §3.1). */
export const MAX_STEERING_OBS = 60;
export const GRAVITY = 9.81;
/** Brake impulse applied while coasting or holding (Bullet "brake 2"). */
const HOLD_BRAKE = 2.0;
/**
 * Time constant (s) of the yaw-rate response (chassis yaw inertia and tyre force build-up, which
 * Bullet has and a purely kinematic model lacks). Without it MetaDrive's IDM heading PID
 * (kd = 3.5 at 10 Hz) is marginally unstable for the s and m vehicle types (period-2 steering
 * oscillation); 0.05 s already removes it. See docs/env.md.
 */
export const YAW_LAG = 0.1;

export class Vehicle {
  readonly id: number;
  readonly params: VehicleParams;
  readonly length: number;
  readonly width: number;
  /** Sampled per instance (spec §2.1). */
  readonly maxEngineForce: number;
  readonly maxBrakeForce: number;
  readonly maxSteering: number;
  readonly maxSpeedKmh: number;
  private readonly wheelbase: number;
  private readonly rearRatio: number;

  x = 0;
  y = 0;
  heading = 0;
  /** Forward speed (m/s), never negative (reverse is disabled as in MetaDrive). */
  speed = 0;
  /** Front wheel angle (rad). */
  steeringAngle = 0;
  /** Yaw rate (rad/s), lagging the kinematic yaw rate by YAW_LAG. */
  yawRate = 0;
  /** Clipped normalised action of the current env step. */
  steerAction = 0;
  throttleAction = 0;
  /** Pose at the start of the current env step. */
  lastX = 0;
  lastY = 0;
  lastHeading = 0;
  // Commands fixed for the env step (set by applyAction).
  private engineAccel = 0;
  private brakeDecel = 0;
  // tan(steeringAngle), the slip angle and its cosine, for the angle `trigAngle`.
  private trigAngle = 0;
  private tanDelta = 0;
  private beta = 0;
  private cosBeta = 1;

  /** `id` is a per-episode index (0 = ego); it never affects the dynamics. */
  constructor(model: VehicleModel, rng: Rng, maxSpeedKmh = 80, id = 0) {
    this.id = id;
    const p = VEHICLE_TYPES[model];
    this.params = p;
    this.length = p.length;
    this.width = p.width;
    this.maxEngineForce = rng.uniform(p.engineForce[0], p.engineForce[1]);
    this.maxBrakeForce = rng.uniform(p.brakeForce[0], p.brakeForce[1]);
    this.maxSteering = p.maxSteeringDeg * DEG2RAD;
    this.maxSpeedKmh = maxSpeedKmh;
    this.wheelbase = p.frontAxle + p.rearAxle;
    this.rearRatio = p.rearAxle / this.wheelbase;
  }

  get speedKmh(): number {
    return this.speed * 3.6;
  }

  /** Places the vehicle at rest. */
  place(x: number, y: number, heading: number, speed = 0): void {
    this.x = this.lastX = x;
    this.y = this.lastY = y;
    this.heading = this.lastHeading = heading;
    this.speed = speed;
    this.steeringAngle = 0;
    this.yawRate = 0;
    this.steerAction = 0;
    this.throttleAction = 0;
    this.engineAccel = 0;
    this.brakeDecel = 0;
  }

  /**
   * Maps an action [steer, throttle_brake] to wheel commands (spec §2.3), once per env step.
   * Non-finite values are treated as 0. `dt` is the physics step (s): brake is an impulse per
   * sub-step, so its equivalent deceleration depends on it.
   */
  applyAction(steer: number, throttleBrake: number, dt: number): void {
    const s = Number.isFinite(steer) ? Math.max(-1, Math.min(1, steer)) : 0;
    const tb = Number.isFinite(throttleBrake) ? Math.max(-1, Math.min(1, throttleBrake)) : 0;
    this.lastX = this.x;
    this.lastY = this.y;
    this.lastHeading = this.heading;
    this.steerAction = s;
    this.throttleAction = tb;
    this.steeringAngle = s * this.maxSteering;
    const m = this.params.mass;
    // Tyre limit on the forward impulse: (0.5 J_fwd)^2 <= (mu N dt)^2 -> a <= 2 mu g.
    const gripDecel = 2 * this.params.friction * GRAVITY;
    if (tb >= 0) {
      if (tb > 0 && this.speedKmh <= this.maxSpeedKmh) {
        this.engineAccel = Math.min((4 * this.maxEngineForce * tb) / m, gripDecel);
        this.brakeDecel = 0;
      } else {
        // Engine force 0 -> Bullet's rolling friction clamped to the brake impulse 2 per wheel.
        this.engineAccel = 0;
        this.brakeDecel = (4 * HOLD_BRAKE) / (m * dt);
      }
    } else {
      this.engineAccel = 0;
      this.brakeDecel = this.speed < 0.01 ? (4 * HOLD_BRAKE) / (m * dt) : Math.min((4 * this.maxBrakeForce * -tb) / (m * dt), gripDecel);
    }
  }

  /** One physics sub-step of the kinematic bicycle about the chassis centre. */
  physicsStep(dt: number): void {
    let v = this.speed;
    if (this.engineAccel > 0) v += this.engineAccel * dt;
    else v = Math.max(0, v - this.brakeDecel * dt); // friction impulses never reverse the car
    this.speed = v;
    if (v === 0) {
      this.yawRate = 0;
      return;
    }
    if (this.steeringAngle !== this.trigAngle) {
      // The wheel angle is fixed over an env step: its trigonometry is computed once.
      this.trigAngle = this.steeringAngle;
      this.tanDelta = Math.tan(this.steeringAngle);
      this.beta = Math.atan(this.rearRatio * this.tanDelta);
      this.cosBeta = Math.cos(this.beta);
    }
    const tanDelta = this.tanDelta;
    const beta = this.beta;
    const cosBeta = this.cosBeta;
    let yawTarget = (v * cosBeta * tanDelta) / this.wheelbase;
    // Lateral-grip limit |v * yawRate| <= mu g: beyond it the car understeers.
    const maxYawRate = (this.params.friction * GRAVITY) / v;
    if (yawTarget > maxYawRate) yawTarget = maxYawRate;
    else if (yawTarget < -maxYawRate) yawTarget = -maxYawRate;
    const yawRate = YAW_LAG > 0 ? this.yawRate + (yawTarget - this.yawRate) * Math.min(1, dt / YAW_LAG) : yawTarget;
    this.yawRate = yawRate;
    const course = this.heading + beta;
    this.x += v * Math.cos(course) * dt;
    this.y += v * Math.sin(course) * dt;
    this.heading += yawRate * dt;
    if (this.heading > Math.PI) this.heading -= 2 * Math.PI;
    else if (this.heading < -Math.PI) this.heading += 2 * Math.PI;
  }

  /** Writes the 4 chassis corners (front-left, front-right, rear-right, rear-left) as x,y pairs. */
  corners(out: Float64Array = new Float64Array(8), offset = 0): Float64Array {
    return boxCorners(this.x, this.y, this.heading, this.length, this.width, out, offset);
  }
}

/** Corners of an oriented box (FL, FR, RR, RL) into `out` at `offset`. */
export function boxCorners(cx: number, cy: number, heading: number, length: number, width: number, out: Float64Array, offset = 0): Float64Array {
  const c = Math.cos(heading);
  const s = Math.sin(heading);
  const hl = length / 2;
  const hw = width / 2;
  const fx = c * hl;
  const fy = s * hl;
  const lx = -s * hw;
  const ly = c * hw;
  out[offset] = cx + fx + lx;
  out[offset + 1] = cy + fy + ly;
  out[offset + 2] = cx + fx - lx;
  out[offset + 3] = cy + fy - ly;
  out[offset + 4] = cx - fx - lx;
  out[offset + 5] = cy - fy - ly;
  out[offset + 6] = cx - fx + lx;
  out[offset + 7] = cy - fy + ly;
  return out;
}

/**
 * Oriented-box overlap by the separating-axis theorem (touching counts as overlap).
 * Boxes are given by centre, heading, length, width.
 */
export function boxesOverlap(
  ax: number, ay: number, ah: number, al: number, aw: number,
  bx: number, by: number, bh: number, bl: number, bw: number,
): boolean {
  const dx = bx - ax;
  const dy = by - ay;
  const ahl = al / 2, ahw = aw / 2, bhl = bl / 2, bhw = bw / 2;
  // Quick reject by bounding circles.
  const ra = Math.sqrt(ahl * ahl + ahw * ahw) + Math.sqrt(bhl * bhl + bhw * bhw);
  if (dx * dx + dy * dy > ra * ra) return false;
  const ac = Math.cos(ah), as = Math.sin(ah), bc = Math.cos(bh), bs = Math.sin(bh);
  // Separating axes: a's forward/left, b's forward/left.
  return (
    !separated(dx, dy, ac, as, ahl, ahw, ac, as, bhl, bhw, bc, bs) &&
    !separated(dx, dy, -as, ac, ahl, ahw, ac, as, bhl, bhw, bc, bs) &&
    !separated(dx, dy, bc, bs, ahl, ahw, ac, as, bhl, bhw, bc, bs) &&
    !separated(dx, dy, -bs, bc, ahl, ahw, ac, as, bhl, bhw, bc, bs)
  );
}

function separated(
  dx: number, dy: number, ux: number, uy: number,
  ahl: number, ahw: number, ac: number, as: number,
  bhl: number, bhw: number, bc: number, bs: number,
): boolean {
  const dist = Math.abs(dx * ux + dy * uy);
  const projA = ahl * Math.abs(ac * ux + as * uy) + ahw * Math.abs(-as * ux + ac * uy);
  const projB = bhl * Math.abs(bc * ux + bs * uy) + bhw * Math.abs(-bs * ux + bc * uy);
  return dist > projA + projB;
}

/** Picks a traffic vehicle type with the MetaDrive mix. */
export function randomTrafficModel(rng: Rng): VehicleModel {
  const i = rng.weightedIndex(TRAFFIC_TYPE_PROBS.map((t) => t[1]));
  return TRAFFIC_TYPE_PROBS[i]![0];
}
