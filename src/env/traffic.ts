/**
 * Trigger-mode traffic (spec §5.2): per block (except the first) candidate slots every 10 m on
 * the block's spawn lanes, n = floor(floor(Σ lengths / 10) * density) chosen at random; the
 * vehicles stay parked (brake) until the ego enters the block's trigger road, then IDMPolicy
 * drives them. Vehicles whose centre leaves every lane surface are removed. Traffic vehicles
 * pick a random next road at the end of each road (MetaDrive gives them random destinations).
 */
import type { Rng } from '../core/rng.js';
import type { Lane } from '../world/lane.js';
import { IDMPolicy, type SceneObject } from './idm.js';
import { arcAbsLat, laneLocal, onLaneSurface } from './lane-math.js';
import type { EnvRoad, RoadMap } from './road-map.js';
import { Vehicle, randomTrafficModel } from './vehicle.js';

/** VEHICLE_GAP (m) between candidate spawn slots. */
export const VEHICLE_GAP = 10;

export class TrafficVehicle implements SceneObject {
  lane: Lane | null;
  active = false;
  removed = false;
  readonly policy: IDMPolicy;
  constructor(readonly vehicle: Vehicle, lane: Lane, policy: IDMPolicy) {
    this.lane = lane;
    this.policy = policy;
  }
}

interface PendingBlock {
  triggerRoad: string;
  vehicles: TrafficVehicle[];
}

export class TrafficManager {
  /** Every vehicle spawned this episode (parked, active and removed). */
  readonly all: TrafficVehicle[] = [];
  /** Vehicles still in the world (parked or active). */
  alive: TrafficVehicle[] = [];
  private pending: PendingBlock[] = [];

  constructor(private readonly map: RoadMap, density: number, rng: Rng, maxSpeedKmh = 80) {
    let id = 1;
    const blocks: PendingBlock[] = [];
    for (const block of map.blocks) {
      const slots: { lane: Lane; long: number }[] = [];
      let total = 0;
      for (const lane of block.spawnLanes) {
        total += lane.length;
        const n = Math.floor(lane.length / VEHICLE_GAP);
        for (let i = 0; i < n; i++) slots.push({ lane, long: i * VEHICLE_GAP });
      }
      const want = Math.floor(Math.floor(total / VEHICLE_GAP) * density);
      rng.shuffle<{ lane: Lane; long: number }, typeof slots>(slots);
      const chosen = slots.slice(0, Math.min(want, slots.length));
      const vehicles: TrafficVehicle[] = [];
      for (const s of chosen) {
        const vrng = rng.split();
        const v = new Vehicle(randomTrafficModel(vrng), vrng, maxSpeedKmh, id++);
        const p = s.lane.position(s.long, 0);
        v.place(p[0]!, p[1]!, s.lane.headingAt(s.long), 0);
        const policy = new IDMPolicy(map, vrng, (road) => pickNextRoad(map, road, vrng));
        const tv = new TrafficVehicle(v, s.lane, policy);
        vehicles.push(tv);
        this.all.push(tv);
      }
      blocks.push({ triggerRoad: block.triggerRoad, vehicles });
    }
    this.alive = this.all.slice();
    // Nearest block last, as MetaDrive reverses block_triggered_vehicles and pops the end.
    this.pending = blocks.reverse();
  }

  get numActive(): number {
    let n = 0;
    for (const t of this.alive) if (t.active) n++;
    return n;
  }

  /**
   * Wakes the nearest pending block when the ego is on its trigger road, then lets every active
   * vehicle's IDM choose its action. `objects` = every scene object (ego included).
   */
  beforeStep(egoRoad: EnvRoad | null, objects: readonly SceneObject[], dt: number): void {
    if (this.pending.length > 0 && egoRoad !== null && egoRoad.key === this.pending[this.pending.length - 1]!.triggerRoad) {
      for (const t of this.pending.pop()!.vehicles) if (!t.removed) t.active = true;
    }
    for (const t of this.alive) {
      if (!t.active) {
        t.vehicle.applyAction(0, -1, dt); // parked: brake held
        continue;
      }
      const [steer, acc] = t.policy.act(t, objects);
      t.vehicle.applyAction(steer, acc, dt);
    }
  }

  physicsStep(dt: number): void {
    for (const t of this.alive) if (t.active) t.vehicle.physicsStep(dt);
  }

  /** Re-localises active vehicles; removes those whose centre left every lane. */
  afterStep(): void {
    let removed = false;
    for (const t of this.alive) {
      if (!t.active) continue;
      const lane = localise(this.map, t);
      if (lane === null) {
        t.removed = true;
        t.active = false;
        removed = true;
      } else t.lane = lane;
    }
    if (removed) this.alive = this.alive.filter((t) => !t.removed);
  }
}

/** Random next road (uniform over the roads that continue from `road`'s end). */
export function pickNextRoad(map: RoadMap, road: EnvRoad, rng: Rng): EnvRoad | null {
  const next = map.nextRoads(road);
  if (next.length === 0) return null;
  return next.length === 1 ? next[0]! : next[rng.int(0, next.length)]!;
}

const SCRATCH = new Float64Array(2);

function contains(lane: Lane, x: number, y: number): boolean {
  return onLaneSurface(lane, x, y, SCRATCH);
}

/**
 * Current lane first, then its road, then the road its IDM has chosen next (as MetaDrive's
 * navigation prefers the current, then the next reference lanes, so that a vehicle entering a
 * junction keeps the connector it planned even where connectors overlap), then its successors,
 * then any lane near the point.
 */
function localise(map: RoadMap, t: TrafficVehicle): Lane | null {
  const { x, y } = t.vehicle;
  const cur = t.lane;
  if (cur !== null) {
    if (contains(cur, x, y)) return cur;
    for (const l of map.roadOf(cur).lanes) if (l !== cur && contains(l, x, y)) return l;
    const next = t.policy.nextRoad;
    if (next !== null) {
      let best: Lane | null = null;
      let bestD = Infinity;
      for (const l of next.lanes) {
        if (arcAbsLat(l, x, y) > l.width / 2) continue;
        laneLocal(l, x, y, SCRATCH);
        const long = SCRATCH[0]!, lat = Math.abs(SCRATCH[1]!);
        if (long >= 0 && long <= l.length && lat <= l.width / 2 && lat < bestD) {
          best = l;
          bestD = lat;
        }
      }
      if (best !== null) return best;
    }
    for (const l of map.successors(cur)) if (contains(l, x, y)) return l;
    const target = t.policy.routingTargetLane;
    if (target !== null) for (const l of map.successors(target)) if (contains(l, x, y)) return l;
  }
  let best: Lane | null = null;
  let bestD = Infinity;
  for (const l of map.lanesNear(x, y)) {
    if (arcAbsLat(l, x, y) > l.width / 2) continue;
    laneLocal(l, x, y, SCRATCH);
    const long = SCRATCH[0]!, lat = Math.abs(SCRATCH[1]!);
    if (long >= 0 && long <= l.length && lat <= l.width / 2 && lat < bestD) {
      best = l;
      bestD = lat;
    }
  }
  return best;
}
