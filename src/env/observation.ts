/**
 * LidarStateObservation (spec §3): [ego state 9] + [navigation 10] + [others 4 * num_others] +
 * [lidar num_lasers], every value in [0, 1]. Speeds inside the observation are km/h, as in
 * MetaDrive: feature 3 is (v_kmh + 1) / (80 + 1), the "others" relative velocities are km/h / 80.
 */
import type { Lane } from '../world/lane.js';
import type { LidarConfig } from './config.js';
import { laneLocal } from './lane-math.js';
import { BOX_STRIDE } from './lidar.js';
import { clip01, type Navigation } from './navigation.js';
import { MAX_STEERING_OBS, type Vehicle } from './vehicle.js';

/** (MAX_LANE_NUM + 1) * MAX_LANE_WIDTH = 4 * 4.5 (normalises features 0-1). */
export const LATERAL_RANGE = 18;
/** BaseMap.MAX_LANE_WIDTH (normalises feature 8). */
export const MAX_LANE_WIDTH = 4.5;

const SCRATCH = new Float64Array(2);

export const EGO_STATE_DIM = 9;
export const NAVI_DIM = 10;

/** Names of the 19 state features, for docs and `env info`. */
export const STATE_FEATURE_NAMES: readonly string[] = [
  'dist_to_left_edge / 18',
  'dist_to_right_edge / 18',
  'heading_vs_lane_normal (cos/2 + 0.5)',
  'speed_kmh ((v + 1) / 81)',
  'steering (a / 60 + 1) / 2 (MetaDrive quirk)',
  'last_steering_action (a + 1) / 2',
  'last_throttle_action (a + 1) / 2',
  'yaw_rate (|dtheta| / 0.1 s, clipped)',
  'lateral_offset_in_lane ((2 lat / 4.5 + 1) / 2)',
  'ckpt0_forward', 'ckpt0_left', 'ckpt0_bend_radius', 'ckpt0_bend_direction', 'ckpt0_bend_angle',
  'ckpt1_forward', 'ckpt1_left', 'ckpt1_bend_radius', 'ckpt1_bend_direction', 'ckpt1_bend_angle',
];

/** Ego state features (spec §3.1) into out[offset .. offset + 9). */
export function writeEgoState(v: Vehicle, nav: Navigation, lane: Lane, out: Float32Array, offset: number): void {
  const refLanes = nav.currentRefLanes;
  const ref0 = refLanes[0]!;
  const w = ref0.width;
  const latRef = laneLocal(ref0, v.x, v.y, SCRATCH)[1]!;
  const dLeft = latRef + w / 2;
  const dRight = w * refLanes.length - dLeft;
  out[offset] = clip01(dLeft / LATERAL_RANGE);
  out[offset + 1] = clip01(dRight / LATERAL_RANGE);
  out[offset + 2] = headingDiffFeature(v, refLanes[refLanes.length - 1]!);
  out[offset + 3] = clip01((v.speedKmh + 1) / (v.maxSpeedKmh + 1));
  out[offset + 4] = clip01((v.steerAction / MAX_STEERING_OBS + 1) / 2);
  out[offset + 5] = (v.steerAction + 1) / 2;
  out[offset + 6] = (v.throttleAction + 1) / 2;
  const cosD = Math.cos(v.heading - v.lastHeading);
  out[offset + 7] = clip01(Math.acos(Math.min(1, Math.max(0, cosD))) / 0.1);
  const lat = laneLocal(lane, v.x, v.y, SCRATCH)[1]!;
  out[offset + 8] = clip01(((lat * 2) / MAX_LANE_WIDTH + 1) / 2);
}

/** cos(angle between heading and the lane's right-pointing normal) / 2 + 0.5. */
export function headingDiffFeature(v: Vehicle, lane: Lane): number {
  let lx: number, ly: number;
  if (lane.kind === 'straight') {
    const dx = lane.end[0] - lane.start[0], dy = lane.end[1] - lane.start[1];
    lx = dy;
    ly = -dx;
  } else if (!lane.clockwise) {
    lx = v.x - lane.center[0];
    ly = v.y - lane.center[1];
  } else {
    lx = lane.center[0] - v.x;
    ly = lane.center[1] - v.y;
  }
  const n = Math.sqrt(lx * lx + ly * ly);
  if (n === 0) return 0.5;
  const cos = (Math.cos(v.heading) * lx + Math.sin(v.heading) * ly) / n;
  return Math.min(1, Math.max(-1, cos)) / 2 + 0.5;
}

/**
 * "Others" features (num_others > 0): the nearest vehicles (by centre distance) among those the
 * lidar hit, 4 features each: relative position (forward, left) / range and relative velocity
 * (km/h) / 80 in the ego frame, each (x + 1) / 2, clipped; zeros when fewer.
 */
export function writeOthers(
  ego: Vehicle,
  others: readonly Vehicle[],
  boxes: Float64Array,
  lidar: LidarConfig,
  hitMask: Uint8Array,
  out: Float32Array,
  offset: number,
): void {
  const n = lidar.num_others;
  for (let i = 0; i < 4 * n; i++) out[offset + i] = 0;
  if (n === 0) return;
  const idx: { i: number; d: number }[] = [];
  for (let i = 0; i < others.length; i++) {
    if (!hitMask[i]) continue;
    idx.push({ i, d: Math.hypot(boxes[i * BOX_STRIDE]! - ego.x, boxes[i * BOX_STRIDE + 1]! - ego.y) });
  }
  idx.sort((a, b) => a.d - b.d);
  const c = Math.cos(ego.heading), s = Math.sin(ego.heading);
  const evx = ego.speedKmh * c, evy = ego.speedKmh * s;
  for (let k = 0; k < Math.min(n, idx.length); k++) {
    const o = others[idx[k]!.i]!;
    const dx = o.x - ego.x, dy = o.y - ego.y;
    const vx = o.speedKmh * Math.cos(o.heading) - evx, vy = o.speedKmh * Math.sin(o.heading) - evy;
    const base = offset + 4 * k;
    out[base] = clip01(((dx * c + dy * s) / lidar.distance + 1) / 2);
    out[base + 1] = clip01(((-dx * s + dy * c) / lidar.distance + 1) / 2);
    out[base + 2] = clip01(((vx * c + vy * s) / ego.maxSpeedKmh + 1) / 2);
    out[base + 3] = clip01(((-vx * s + vy * c) / ego.maxSpeedKmh + 1) / 2);
  }
}
